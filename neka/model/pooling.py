"""`model.pooling`: how a row's token vectors become the one vector the linear head classifies.

- `pooler`: the encoder's own pooler (BERT, KoBERT: first token -> dense -> tanh, trained in
  pretraining on next-sentence prediction).
- `cls`: the first token through a fresh dense layer and the activation of the family's own Hugging
  Face head (RoBERTa/XLM-R tanh, ELECTRA GELU, DistilBERT ReLU, DeBERTa its pooler_hidden_act), so
  `neka.export` maps it onto that head.
- `mean`: the mean of the token vectors under the attention mask (padding left out).
- `auto`: `pooler` where the encoder has one whose weights came from its checkpoint, else `cls`.

The choice made is kept in the checkpoint's hyperparameters (`pooling`), so evaluate, predict and
serve rebuild the same head without the pretrained checkpoint.
"""

import logging

import torch
from torch import nn
from transformers import PreTrainedModel
from transformers.activations import ACT2FN
from transformers.modeling_outputs import ModelOutput

from neka.errors import NekaError
from neka.model.families import head_activation

log = logging.getLogger(__name__)

CHOICES = ("auto", "cls", "pooler", "mean")


def resolve_pooling(choice: str, encoder: PreTrainedModel) -> str:
    """The pooling `choice` means for this encoder; `auto`'s answer is logged."""
    if choice not in CHOICES:
        raise NekaError(f"model.pooling: unknown value {choice!r}; use one of {CHOICES}")
    has_pooler = getattr(encoder, "pooler", None) is not None
    if choice == "pooler" and not has_pooler:
        raise NekaError(f"model.pooling=pooler: this {encoder.config.model_type} encoder has no trained pooler; "
                        f"use auto, cls or mean")
    if choice != "auto":
        return choice
    resolved = "pooler" if has_pooler else "cls"
    log.info("model.pooling=auto: %s for this %s encoder", "its trained pooler" if has_pooler else
             f"the first token through a new dense layer and {head_activation(encoder.config)}",
             encoder.config.model_type)
    return resolved


class Pooling(nn.Module):
    """One of the resolved choices. Takes the encoder's outputs and the attention mask, returns
    (batch, hidden) vectors. An unused pooler is removed from the encoder: its parameters would
    get no gradient (DDP refuses that) and would fill checkpoints for nothing."""

    def __init__(self, kind: str, encoder: PreTrainedModel):
        super().__init__()
        self.kind = kind
        if kind != "pooler" and getattr(encoder, "pooler", None) is not None:
            encoder.pooler = None
        if kind == "cls":
            hidden_size = encoder.config.hidden_size
            self.dense = nn.Linear(hidden_size, hidden_size)
            self.dense.weight.data.normal_(mean=0.0, std=getattr(encoder.config, "initializer_range", 0.02))
            self.dense.bias.data.zero_()
            self.activation = ACT2FN[head_activation(encoder.config)]

    def forward(self, outputs: ModelOutput, attention_mask: torch.Tensor) -> torch.Tensor:
        if self.kind == "pooler":
            return outputs.pooler_output
        hidden = outputs.last_hidden_state
        if self.kind == "mean":
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            return (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1)
        return self.activation(self.dense(hidden[:, 0]))


def drop_untrained_pooler(encoder: PreTrainedModel, missing_keys: set[str] | list[str]) -> None:
    """A pooler whose weights the checkpoint lacks (KLUE RoBERTa, XLM-R, e5: published without one)
    is random: removed, so `auto` takes the first token through a new dense layer as the family's
    own head does, and `pooler` is refused rather than silently random."""
    if getattr(encoder, "pooler", None) is not None and any(key.startswith("pooler.") for key in missing_keys):
        log.info("the checkpoint has no pooler weights: its pooler is left out")
        encoder.pooler = None
