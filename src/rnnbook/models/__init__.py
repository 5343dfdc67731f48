"""PyTorch models of the lecture."""

from rnnbook.models.graphs import ManyToMany, ManyToOne, OneToMany, Seq2Seq, count_parameters

__all__ = ["ManyToMany", "ManyToOne", "OneToMany", "Seq2Seq", "count_parameters"]
