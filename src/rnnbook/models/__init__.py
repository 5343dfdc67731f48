"""PyTorch models of the lecture: graphs, CharLM, highway stacks, captioners, Show-Attend-Tell, VQA, glimpses,
seq2seq, a tiny Transformer."""

from rnnbook.cells import count_parameters
from rnnbook.models.attention import GridEncoder, ShowAttendTell, SoftAttention, doubly_stochastic_penalty
from rnnbook.models.captioner import Captioner, ConvEncoder, PrecomputedFeatures, ResNetEncoder
from rnnbook.models.charlm import CharLM
from rnnbook.models.glimpse import GlimpseClassifier
from rnnbook.models.graphs import EncoderDecoder, ManyToMany, ManyToOne, OneToMany
from rnnbook.models.highway import Highway, PlainLayer, ResidualLayer
from rnnbook.models.transformer import TinyTransformer
from rnnbook.models.vqa import QuestionEncoder, VQAModel

# EncoderDecoder is chapter 1's minimal seq2seq graph (a many-to-one encoder feeding a one-to-many decoder);
# rnnbook.models.seq2seq.Seq2Seq (chapter 10: encoder-decoder with attention) is imported from its module.
__all__ = ["Captioner", "CharLM", "ConvEncoder", "EncoderDecoder", "GlimpseClassifier", "GridEncoder", "Highway", "ManyToMany",
           "ManyToOne", "OneToMany", "PlainLayer", "PrecomputedFeatures", "QuestionEncoder", "ResNetEncoder",
           "ResidualLayer", "ShowAttendTell", "SoftAttention", "TinyTransformer", "VQAModel",
           "count_parameters", "doubly_stochastic_penalty"]
