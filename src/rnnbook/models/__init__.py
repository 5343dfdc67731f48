"""PyTorch models of the lecture."""

from rnnbook.models.charlm import CharLM
from rnnbook.models.graphs import ManyToMany, ManyToOne, OneToMany, Seq2Seq, count_parameters
from rnnbook.models.highway import Highway, PlainLayer, ResidualLayer

__all__ = ["CharLM", "Highway", "ManyToMany", "ManyToOne", "OneToMany", "PlainLayer", "ResidualLayer", "Seq2Seq",
           "count_parameters"]
