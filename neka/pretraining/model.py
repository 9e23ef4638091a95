"""NekaMaskedLM: an encoder with its masked-language-model head (transformers' *ForMaskedLM), trained
on masked batches, with its loss and masked-token accuracy, AdamW and the warmup schedule of
neka.train's classifier."""

import logging

import pytorch_lightning as pl
import torch
from torch.nn import functional
from torchmetrics import MeanMetric, Metric
from torchmetrics.classification import MulticlassAccuracy
from transformers import AutoModelForMaskedLM, BertConfig, BertForMaskedLM, PreTrainedModel

from neka.model.attention import encoder_attention_mask
from neka.model.classifier import NekaClassifier, full_precision, load_pretrained_model, make_attention_mask
from neka.model.families import segment_inputs
from neka.model.step_logging import log_step_loss
from neka.pretraining.masking import TokenMasker

log = logging.getLogger(__name__)

IGNORED = -100  # the label of a position that was not chosen for masking


def build_masked_lm(pretrained: str | None, encoder: dict | None, vocab_size: int, pad_id: int,
                    trust_remote_code: bool = False, attn_implementation: str = "sdpa") -> PreTrainedModel:
    """A pretrained encoder with its MLM head (a head it lacks starts untrained, as transformers warns),
    or a fresh BERT sized by `encoder` (model=tiny) over the tokenizer's vocabulary."""
    if not pretrained:
        return BertForMaskedLM(BertConfig(vocab_size=vocab_size, pad_token_id=pad_id,
                                          attn_implementation=attn_implementation, **(encoder or {})))
    return load_pretrained_model(AutoModelForMaskedLM, pretrained, vocab_size, trust_remote_code,
                                 attn_implementation)[0]


class NekaMaskedLM(pl.LightningModule):
    # neka.train's optimizer (AdamW without decay on biases and LayerNorm, warmup then decay, per
    # optimizer step) and its gradient clipping under mixed precision: the same functions
    configure_optimizers = NekaClassifier.configure_optimizers
    configure_gradient_clipping = NekaClassifier.configure_gradient_clipping

    def __init__(self, masker: TokenMasker, vocab_size: int, pad_id: int, optimizer: dict, scheduler: dict,
                 seed: int = 42, pretrained: str | None = None, encoder: dict | None = None,
                 trust_remote_code: bool = False, attn_implementation: str = "sdpa"):
        """`seed` starts the training masks' generator; validation's restarts from it every time."""
        super().__init__()
        self.save_hyperparameters(ignore=["masker"])
        self.masker = masker
        self.mlm = build_masked_lm(pretrained, encoder, vocab_size, pad_id, trust_remote_code, attn_implementation)
        self.hparams["encoder_config"] = self.mlm.config.to_dict()
        size = self.mlm.config.vocab_size
        self.train_accuracy = MulticlassAccuracy(size, average="micro", ignore_index=IGNORED)
        self.val_accuracy = MulticlassAccuracy(size, average="micro", ignore_index=IGNORED)
        self.val_loss = MeanMetric()  # weighted by masked tokens: the loss over all of validation's masks
        self.train_accuracy.persistent(True)  # in checkpoints: a resumed epoch still counts the batches before
        self.train_masks = torch.Generator().manual_seed(seed)
        self.val_masks = torch.Generator()

    def on_before_batch_transfer(self, batch: dict[str, torch.Tensor], dataloader_idx: int) -> dict[str, torch.Tensor]:
        """Masked in the main process, on the CPU, before the batch moves to the device; also with
        DataLoader workers, whose random state no checkpoint could hold."""
        return self.masker.mask(batch, self.train_masks if self.trainer.training else self.val_masks)

    def on_validation_epoch_start(self) -> None:
        self.val_masks.manual_seed(self.hparams.seed)  # the same masks every epoch: val/loss compares epochs

    def on_save_checkpoint(self, checkpoint: dict) -> None:
        checkpoint["train_masks"] = self.train_masks.get_state()

    def on_load_checkpoint(self, checkpoint: dict) -> None:
        if "train_masks" in checkpoint:
            self.train_masks.set_state(checkpoint["train_masks"])

    def _step(self, batch: dict[str, torch.Tensor], accuracy: Metric) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean cross-entropy over the masked tokens (0 when a batch drew none: transformers' own loss
        would be NaN) and their count."""
        input_ids, labels = batch["input_ids"], batch["labels"]
        mask = make_attention_mask(batch["valid_length"], input_ids.shape[1])
        outputs = self.mlm(input_ids=input_ids, attention_mask=encoder_attention_mask(mask, self.mlm.config,
                                                                                      self.mlm.dtype),
                           **segment_inputs(self.mlm.config, batch["token_type_ids"]))
        with full_precision(input_ids.device):  # the loss and accuracy of float32 logits, not bfloat16 ones
            logits = outputs.logits.float()
            masked_count = (labels != IGNORED).sum()
            loss = functional.cross_entropy(logits.flatten(0, 1), labels.flatten(), ignore_index=IGNORED,
                                            reduction="sum") / masked_count.clamp(min=1)
            accuracy.update(logits.argmax(dim=-1), labels)
        return loss, masked_count

    def training_step(self, batch: dict[str, torch.Tensor], batch_index: int) -> torch.Tensor:
        loss, _ = self._step(batch, self.train_accuracy)
        log_step_loss(self, loss)
        self.log("train/mlm_acc", self.train_accuracy, on_step=False, on_epoch=True)
        return loss

    def validation_step(self, batch: dict[str, torch.Tensor], batch_index: int) -> None:
        with full_precision(self.device):  # as neka.train validates: float32 whatever trained
            loss, masked_count = self._step(batch, self.val_accuracy)
        self.val_loss.update(loss, weight=masked_count)
        self.log("val/loss", self.val_loss, on_step=False, on_epoch=True, prog_bar=True)
        self.log("val/mlm_acc", self.val_accuracy, on_step=False, on_epoch=True, prog_bar=True)
