"""Masked-language-model pretraining on unlabelled texts (`python -m neka.pretrain`): the texts,
their masking, the encoder with its MLM head, and the Hugging Face folder a run leaves for neka.train."""

from neka.pretraining.datamodule import TextDataModule
from neka.pretraining.model import NekaMaskedLM

__all__ = ["NekaMaskedLM", "TextDataModule"]
