"""Visual question answering with an RNN and attention (Zhu et al. 2016, Visual7W; Yang et al.'s stacked attention).

A question LSTM reads the words; its last state q asks the image grid where to look; the answer is a class:

    q = LSTM(E w_1 .. E w_T)[last real word]                       (N, H)
    u_0 = q;  for k = 1..K:  alpha_k = softmax(f_att(a, u_{k-1}))  (N, L)
                             u_k = u_{k-1} + W_v sum_i alpha_ki a_i  (a glimpse, then refine the query)
    m_k = mean_i sigmoid(e_ki)                                      (how *much* matched: a cue for counting)
    p(answer) = softmax(MLP([u_K; m_1..m_K]))

Two baselines use the same parts with one input removed, so a reader sees what each input is worth:
``mode="question"`` answers from q alone (the language prior: "what colour is the circle?" -> the most common
colour of circles), ``mode="image"`` answers from the mean of the grid alone (no question: the best it can do is
guess what is usually asked).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from rnnbook.models.attention import GridEncoder, SoftAttention

MODES = ("full", "question", "image")


class QuestionEncoder(nn.Module):
    """Embedding + LSTM; returns the hidden state at each question's last non-<NULL> word, (N, H)."""

    def __init__(self, vocab_size: int, null_idx: int, wordvec_dim: int = 32, hidden_dim: int = 64):
        super().__init__()
        self.null_idx = null_idx
        self.embed = nn.Embedding(vocab_size, wordvec_dim)
        self.lstm = nn.LSTM(wordvec_dim, hidden_dim, batch_first=True)

    def forward(self, questions: Tensor) -> Tensor:
        if questions.dim() != 2:
            raise ValueError(f"questions must be (N, T) word indices, got shape {tuple(questions.shape)}")
        out, _ = self.lstm(self.embed(questions))
        lengths = (questions != self.null_idx).sum(dim=1).clamp(min=1)
        return out[torch.arange(out.shape[0], device=out.device), lengths - 1]


class VQAModel(nn.Module):
    """``forward(images (N,3,H,W), questions (N,T)) -> answer scores (N, n_answers)``; ``last_alphas`` after a call.

    ``images`` may also be annotations a (N, L, D) from a frozen encoder run beforehand (the encoder is skipped).

    ``mode``: ``"full"`` (question LSTM + ``glimpses`` attention hops over the grid), ``"question"`` or ``"image"``.
    """

    def __init__(self, vocab_size: int, n_answers: int, null_idx: int, mode: str = "full", wordvec_dim: int = 32,
                 hidden_dim: int = 64, attn_dim: int = 32, glimpses: int = 2, encoder: nn.Module | None = None):
        super().__init__()
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
        if glimpses < 1:
            raise ValueError(f"glimpses must be >= 1, got {glimpses}")
        self.mode, self.glimpses = mode, glimpses
        H = hidden_dim
        if mode != "image":
            self.question = QuestionEncoder(vocab_size, null_idx, wordvec_dim, H)
        if mode != "question":
            self.encoder = encoder if encoder is not None else GridEncoder()
            D = self.encoder.out_dim
        if mode == "full":
            self.hops = nn.ModuleList(SoftAttention(D, H, attn_dim) for _ in range(glimpses))
            self.W_v = nn.ModuleList(nn.Linear(D, H) for _ in range(glimpses))
            in_dim = H + glimpses
        elif mode == "image":
            self.W_v = nn.Linear(D, H)
            in_dim = H
        else:
            in_dim = H
        self.classifier = nn.Sequential(nn.Linear(in_dim, H), nn.ReLU(), nn.Linear(H, n_answers))
        self.last_alphas: Tensor | None = None

    def forward(self, images: Tensor, questions: Tensor) -> Tensor:
        if self.mode == "question":
            return self.classifier(self.question(questions))
        a = images if images.dim() == 3 else self.encoder(images)  # annotations computed beforehand pass through
        if self.mode == "image":
            return self.classifier(torch.relu(self.W_v(a.mean(dim=1))))
        u = self.question(questions)
        alphas, amounts = [], []
        for attend, W_v in zip(self.hops, self.W_v):
            e = attend.scores(attend.project(a), u)
            alpha = torch.softmax(e, dim=1)
            u = u + torch.tanh(W_v((alpha.unsqueeze(-1) * a).sum(dim=1)))
            alphas.append(alpha)
            amounts.append(torch.sigmoid(e).mean(dim=1, keepdim=True))
        self.last_alphas = torch.stack(alphas, 1).detach()  # (N, K, L)
        return self.classifier(torch.cat([u, *amounts], dim=1))
