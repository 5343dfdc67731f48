"""Image captioning in numpy, in CS231n's form: word embedding, temporal affine, temporal softmax, CaptioningRNN.

The lecture's captioner: a CNN turns the image into a feature vector v; the RNN starts from a hidden state that
depends on the image and emits one word per step,

    h_0 = v W_proj + b_proj,     h_t = step(x_t, h_{t-1})  (rnn: tanh(x_t Wx + h_{t-1} Wh + b), or lstm),
    x_t = W_embed[w_{t-1}],      scores_t = h_t W_vocab + b_vocab,

trained with teacher forcing (the input at step t is the true word t - 1) and sampled word by word at test time.
The steps come from ``rnn.py`` and ``lstm.py``; this file adds the layers around them. Batches are rows:
N captions of T words, vocabulary V, word vectors W, image features D, hidden size H.
"""

from __future__ import annotations

import numpy as np

from rnnbook.numpy_nn.lstm import lstm_backward, lstm_forward
from rnnbook.numpy_nn.lstm import _step_forward as _lstm_step
from rnnbook.numpy_nn.rnn import Cache, rnn_backward, rnn_forward
from rnnbook.numpy_nn.rnn import _step_forward as _rnn_step


def _check_ids(where: str, name: str, ids, V: int) -> np.ndarray:
    """Word ids: an integer array with every entry in [0, V) (a negative id would silently pick a word from the end)."""
    ids = np.asarray(ids)
    if not np.issubdtype(ids.dtype, np.integer):
        raise TypeError(f"{where}: {name} must hold integer word ids, got dtype {ids.dtype}; convert with "
                        f"{name}.astype(int) after checking that the values are whole numbers")
    if ids.size and (ids.min() < 0 or ids.max() >= V):
        raise ValueError(f"{where}: {name} must hold word ids in [0, {V}) (the vocabulary), got values from "
                         f"{ids.min()} to {ids.max()}; map unknown words to an <UNK> id of the vocabulary")
    return ids


def word_embedding_forward(x: np.ndarray, W: np.ndarray) -> tuple[np.ndarray, Cache]:
    """Look up word vectors: out[n, t] = W[x[n, t]].   x (N, T) ints in [0, V), W (V, D) -> out (N, T, D), cache."""
    x = np.asarray(x)
    if x.ndim != 2 or not np.issubdtype(x.dtype, np.integer):
        raise ValueError(f"word_embedding_forward: x must be an (N, T) integer array, got {x.dtype} {x.shape}")
    if x.size and (x.min() < 0 or x.max() >= W.shape[0]):
        raise ValueError(f"word_embedding_forward: indices must lie in [0, {W.shape[0]}), got [{x.min()}, {x.max()}]")
    return W[x], (x, W.shape)


def word_embedding_backward(dout: np.ndarray, cache: Cache) -> np.ndarray:
    """dW[v] = sum of dout[n, t] over every (n, t) with x[n, t] = v (np.add.at: repeated words add up).

    dout (N, T, D) -> dW (V, D).
    """
    x, shape = cache
    dW = np.zeros(shape, dtype=dout.dtype)
    np.add.at(dW, x, dout)
    return dW


def temporal_affine_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, Cache]:
    """The same affine map at every step: out[:, t] = x[:, t] w + b.   x (N, T, D), w (D, M), b (M,) -> (N, T, M)."""
    if x.ndim != 3 or w.shape[0] != x.shape[2] or b.shape != (w.shape[1],):
        raise ValueError(f"temporal_affine_forward: need x (N, T, D), w (D, M), b (M,); got {x.shape}, {w.shape}, {b.shape}")
    return x @ w + b, (x, w)


def temporal_affine_backward(dout: np.ndarray, cache: Cache) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """dx = dout w^T, dw = sum_{n,t} x[n,t]^T dout[n,t], db = sum_{n,t} dout[n,t].   dout (N, T, M)."""
    x, w = cache
    N, T, D = x.shape
    M = w.shape[1]
    return dout @ w.T, x.reshape(N * T, D).T @ dout.reshape(N * T, M), dout.sum(axis=(0, 1))


def temporal_softmax_loss(x: np.ndarray, y: np.ndarray, mask: np.ndarray) -> tuple[float, np.ndarray]:
    """Softmax cross-entropy at every step, summed over time and averaged over the batch, masked positions ignored.

    loss = -(1/N) sum_{n,t} mask[n,t] log softmax(x[n,t])[y[n,t]].
    x (N, T, V) scores, y (N, T) targets in [0, V), mask (N, T) bool  ->  loss, dx (N, T, V).
    """
    if np.ndim(x) != 3:
        raise ValueError(f"temporal_softmax_loss: x must be scores of shape (N, T, V), got shape {np.shape(x)}")
    N, T, V = x.shape
    y, mask = np.asarray(y), np.asarray(mask)
    if y.shape != (N, T) or mask.shape != (N, T):
        raise ValueError(f"temporal_softmax_loss: y and mask must have shape {(N, T)}, got {y.shape} and {mask.shape}")
    y = _check_ids("temporal_softmax_loss", "y", y, V)
    if mask.dtype != bool and not (np.issubdtype(mask.dtype, np.integer) and np.isin(mask, (0, 1)).all()):
        raise TypeError(f"temporal_softmax_loss: mask must be boolean (True = score this word) or 0/1 integers, "
                        f"got dtype {mask.dtype}; build it as y != null_id")
    if not np.all(np.isfinite(x)):
        raise ValueError("temporal_softmax_loss: x (the scores) contains NaN or inf")
    flat_x, flat_y, flat_m = x.reshape(N * T, V), y.reshape(N * T), mask.reshape(N * T)
    shifted = flat_x - flat_x.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    rows = np.arange(N * T)
    loss = -np.sum(flat_m * log_probs[rows, flat_y]) / N
    dx = np.exp(log_probs)
    dx[rows, flat_y] -= 1.0
    dx *= flat_m[:, None] / N
    return float(loss), dx.reshape(N, T, V)


class CaptioningRNN:
    """CS231n's CaptioningRNN: h_0 = features W_proj + b_proj, an RNN or LSTM over embedded words, scores per step.

    Parameters in ``self.params``: W_embed (V, W), W_proj (D, H), b_proj (H,), Wx (W, H or 4H), Wh (H, H or 4H),
    b (H or 4H,), W_vocab (H, V), b_vocab (V,), with V = len(word_to_idx), W = wordvec_dim, D = input_dim,
    H = hidden_dim. No regularisation.
    """

    def __init__(self, word_to_idx: dict[str, int], input_dim: int = 512, wordvec_dim: int = 128, hidden_dim: int = 128,
                 cell_type: str = "rnn", dtype: type = np.float32, seed: int = 0) -> None:
        if cell_type not in {"rnn", "lstm"}:
            raise ValueError(f'CaptioningRNN: cell_type must be "rnn" or "lstm", got {cell_type!r}')
        if "<NULL>" not in word_to_idx:  # <START> and <END> are optional, as in CS231n: only sample() needs them
            raise ValueError("CaptioningRNN: word_to_idx needs the token <NULL> (the padding that the loss masks out)")
        self.cell_type, self.dtype = cell_type, dtype
        self.word_to_idx = word_to_idx
        self.idx_to_word = {i: w for w, i in word_to_idx.items()}
        self._null, self._start, self._end = word_to_idx["<NULL>"], word_to_idx.get("<START>"), word_to_idx.get("<END>")
        V, W, D, H = len(word_to_idx), wordvec_dim, input_dim, hidden_dim
        G = 4 * H if cell_type == "lstm" else H
        rng = np.random.default_rng(seed)
        self.params: dict[str, np.ndarray] = {
            "W_embed": rng.standard_normal((V, W)) / 100,
            "W_proj": rng.standard_normal((D, H)) / np.sqrt(D), "b_proj": np.zeros(H),
            "Wx": rng.standard_normal((W, G)) / np.sqrt(W), "Wh": rng.standard_normal((H, G)) / np.sqrt(H),
            "b": np.zeros(G),
            "W_vocab": rng.standard_normal((H, V)) / np.sqrt(H), "b_vocab": np.zeros(V),
        }
        for k, v in self.params.items():
            self.params[k] = v.astype(dtype)

    def loss(self, features: np.ndarray, captions: np.ndarray) -> tuple[float, dict[str, np.ndarray]]:
        """Teacher-forced loss and gradients. features (N, D), captions (N, T) ints starting with <START>.

        captions_in = captions[:, :-1] is fed in, captions_out = captions[:, 1:] is predicted, <NULL> targets
        are masked out; returns (loss, grads) with grads[k] shaped like params[k].
        """
        p = self.params
        features, captions = np.asarray(features), np.asarray(captions)
        if features.ndim != 2 or features.shape[1] != p["W_proj"].shape[0] or captions.ndim != 2 or len(captions) != len(features):
            raise ValueError(f"CaptioningRNN.loss: need features (N, {p['W_proj'].shape[0]}) and captions (N, T); "
                             f"got {features.shape} and {captions.shape}")
        if captions.shape[1] < 2:
            raise ValueError(f"CaptioningRNN.loss: captions need at least 2 columns (<START> and one word to "
                             f"predict), got shape {captions.shape}")
        captions = _check_ids("CaptioningRNN.loss", "captions", captions, p["W_embed"].shape[0])
        if not np.all(np.isfinite(features)):
            raise ValueError("CaptioningRNN.loss: features contains NaN or inf; check the image features")
        captions_in, captions_out = captions[:, :-1], captions[:, 1:]
        mask = captions_out != self._null
        h0, proj_cache = features @ p["W_proj"] + p["b_proj"], features
        x, emb_cache = word_embedding_forward(captions_in, p["W_embed"])
        forward, backward = (rnn_forward, rnn_backward) if self.cell_type == "rnn" else (lstm_forward, lstm_backward)
        h, rnn_cache = forward(x, h0, p["Wx"], p["Wh"], p["b"])
        scores, aff_cache = temporal_affine_forward(h, p["W_vocab"], p["b_vocab"])
        loss, dscores = temporal_softmax_loss(scores, captions_out, mask)

        grads: dict[str, np.ndarray] = {}
        dh, grads["W_vocab"], grads["b_vocab"] = temporal_affine_backward(dscores, aff_cache)
        dx, dh0, grads["Wx"], grads["Wh"], grads["b"] = backward(dh, rnn_cache)
        grads["W_embed"] = word_embedding_backward(dx, emb_cache)
        grads["W_proj"] = proj_cache.T @ dh0
        grads["b_proj"] = dh0.sum(axis=0)
        return loss, grads

    def sample(self, features: np.ndarray, max_length: int = 30) -> np.ndarray:
        """Greedy decoding: start from <START>, feed back the most likely word; (N, max_length) ints.

        Like CS231n, the first column is the first generated word (not <START>); after a caption's <END> the
        rest of its row is <NULL>.
        """
        if self._start is None or self._end is None:
            raise ValueError("CaptioningRNN.sample: word_to_idx has no <START> or no <END> token; sampling starts "
                             "from <START> and stops at <END>, so add both to the vocabulary to sample")
        p = self.params
        features = np.asarray(features)
        if features.ndim != 2 or features.shape[1] != p["W_proj"].shape[0]:
            raise ValueError(f"CaptioningRNN.sample: features must have shape (N, {p['W_proj'].shape[0]}), "
                             f"got {features.shape}")
        if not np.all(np.isfinite(features)):
            raise ValueError("CaptioningRNN.sample: features contains NaN or inf, which would decode to <NULL> "
                             "everywhere; check the image features")
        if not (isinstance(max_length, (int, np.integer)) and max_length >= 1):
            raise ValueError(f"CaptioningRNN.sample: max_length must be an int >= 1, got {max_length!r}")
        N = len(features)
        captions = np.full((N, max_length), self._null, dtype=np.int64)
        h = features @ p["W_proj"] + p["b_proj"]
        c = np.zeros_like(h)
        word = np.full(N, self._start, dtype=np.int64)
        done = np.zeros(N, dtype=bool)
        for t in range(max_length):
            x = p["W_embed"][word]
            if self.cell_type == "rnn":
                h, _ = _rnn_step(x, h, p["Wx"], p["Wh"], p["b"])
            else:
                h, c, _ = _lstm_step(x, h, c, p["Wx"], p["Wh"], p["b"])
            word = np.argmax(h @ p["W_vocab"] + p["b_vocab"], axis=1)
            captions[~done, t] = word[~done]
            done |= word == self._end
            if done.all():
                break
        return captions


def sgd_train(model: CaptioningRNN, features: np.ndarray, captions: np.ndarray, image_idxs: np.ndarray | None = None,
              num_epochs: int = 10, batch_size: int = 50, learning_rate: float = 5e-3, seed: int = 0,
              beta1: float = 0.9, beta2: float = 0.999) -> list[float]:
    """A minimal Adam loop (CS231n's CaptioningSolver, reduced): minibatches of (caption, its image's features).

    A faithful numpy program, like ``rnnbook.minchar``: the update rule written out beside the numpy layers it
    trains is the lesson, so it does not go through ``rnnbook.train.fit`` (a torch loop). Adam, per parameter:
    m = beta1 m + (1 - beta1) g, v = beta2 v + (1 - beta2) g^2, w -= lr m_hat / (sqrt(v_hat) + 1e-8).

    features (I, D); captions (M, T); image_idxs (M,) maps each caption to its image (default: caption m <-> image m).
    Returns the loss of every iteration.
    """
    rng = np.random.default_rng(seed)
    idx = np.arange(len(captions)) if image_idxs is None else np.asarray(image_idxs)
    m = {k: np.zeros_like(v) for k, v in model.params.items()}
    v = {k: np.zeros_like(w) for k, w in model.params.items()}
    history, step = [], 0
    for _ in range(num_epochs):
        order = rng.permutation(len(captions))
        for s in range(0, len(order), batch_size):
            b = order[s:s + batch_size]
            loss, grads = model.loss(features[idx[b]], captions[b])
            step += 1
            for k, g in grads.items():
                m[k] = beta1 * m[k] + (1 - beta1) * g
                v[k] = beta2 * v[k] + (1 - beta2) * g * g
                mh, vh = m[k] / (1 - beta1 ** step), v[k] / (1 - beta2 ** step)
                model.params[k] -= (learning_rate * mh / (np.sqrt(vh) + 1e-8)).astype(model.params[k].dtype)
            history.append(loss)
    return history
