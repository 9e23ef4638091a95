"""NekaClassifier: the KoBERT notebook's BERTClassifier (encoder -> pooling -> dropout -> linear)
as a LightningModule, with its attention mask, metrics, AdamW and warmup schedule."""

import logging
import math

import numpy as np
import pytorch_lightning as pl
import torch
from pytorch_lightning.plugins.precision import MixedPrecision, Precision
from pytorch_lightning.utilities.enums import GradClipAlgorithmType
from sklearn.utils.class_weight import compute_class_weight
from torch import nn
from torchmetrics import Metric
from transformers import AutoConfig, AutoModel, BertConfig, BertModel, PreTrainedModel, get_scheduler

from neka.data.truncation import Truncation
from neka.errors import NekaError
from neka.hub import load_pretrained
from neka.model.attention import allow_cudnn_attention, encoder_attention_mask
from neka.model.dropout import CHOICES as CPU_DROPOUTS
from neka.model.dropout import choose_cpu_dropout, use_numpy_masks
from neka.model.families import attention_implementation, segment_inputs
from neka.model.metrics import MultilabelMetrics, RegressionMetrics, SplitMetrics
from neka.model.pooling import Pooling, drop_untrained_pooler, resolve_pooling
from neka.model.step_logging import log_step_loss
from neka.model.windows import pool_windows

log = logging.getLogger(__name__)

SCHEDULES = ("linear", "cosine", "constant_with_warmup")


def make_attention_mask(valid_length: torch.Tensor, width: int) -> torch.Tensor:
    """1 for the first valid_length[i] positions of row i, 0 after: the KoBERT notebook's
    gen_attention_mask, as one broadcast comparison instead of a loop over the batch."""
    positions = torch.arange(width, device=valid_length.device)
    return (positions[None, :] < valid_length[:, None]).long()


def full_precision(device: torch.device) -> torch.autocast:
    """Turns off the bf16 autocast that trainer.precision=bf16-mixed wraps steps in."""
    return torch.autocast(device.type, enabled=False)


def build_encoder(pretrained: str | None, encoder: dict | None, vocab_size: int, pad_id: int,
                  encoder_config: dict | None = None, trust_remote_code: bool = False,
                  attn_implementation: str = "sdpa") -> PreTrainedModel:
    """A pretrained encoder by name or folder, or a fresh BERT sized by `encoder` (model=tiny)
    whose vocabulary is the tokenizer's, or (`encoder_config`, from a checkpoint) the same
    architecture as a saved run, whose weights the checkpoint then fills in.
    `attn_implementation`: sdpa (torch's fused attention kernel) or eager (the reference code), or
    the encoder's eager attention where it has no SDPA path (neka/model/families.py)."""
    if encoder_config:
        config = AutoConfig.for_model(**encoder_config)
        return AutoModel.from_config(config, attn_implementation=attention_implementation(config, attn_implementation))
    if pretrained:
        model, loading = load_pretrained_model(AutoModel, pretrained, vocab_size, trust_remote_code,
                                               attn_implementation)
        drop_untrained_pooler(model, loading["missing_keys"])
        return model
    return BertModel(BertConfig(vocab_size=vocab_size, pad_token_id=pad_id, attn_implementation=attn_implementation,
                                **(encoder or {})))


def load_pretrained_model(auto_class: type, pretrained: str, vocab_size: int, trust_remote_code: bool = False,
                          attn_implementation: str = "sdpa") -> tuple[PreTrainedModel, dict]:
    """`auto_class` (AutoModel, AutoModelForMaskedLM) from a hub name or folder, in training mode, with
    transformers' loading info; its embeddings must cover the tokenizer's `vocab_size` ids."""
    config = load_pretrained(AutoConfig.from_pretrained, pretrained, "model.pretrained",
                             trust_remote_code=trust_remote_code)
    model, loading = load_pretrained(auto_class.from_pretrained, pretrained, "model.pretrained", config=config,
                                     trust_remote_code=trust_remote_code, output_loading_info=True,
                                     attn_implementation=attention_implementation(config, attn_implementation))
    model.train()  # from_pretrained returns eval mode, and Lightning keeps modules' modes: dropout would be off
    if model.config.vocab_size < vocab_size:
        raise NekaError(f"model.pretrained={pretrained!r} embeds {model.config.vocab_size} tokens but the "
                        f"tokenizer has {vocab_size}; use the tokenizer that came with this encoder")
    if model.config.vocab_size > vocab_size:  # some encoders pad the embedding table; a wrong vocab also looks so
        log.warning("model.pretrained=%r embeds %d tokens, the tokenizer has %d: is this the encoder's own "
                    "tokenizer?", pretrained, model.config.vocab_size, vocab_size)
    return model, loading


def build_loss_weights(class_weights: str | None, train_labels: np.ndarray | None,
                       num_labels: int) -> torch.Tensor | None:
    """`balanced`: sklearn's n_rows / (n_classes * rows_of_class) from the training split, so
    rare classes weigh as much in the loss as common ones. For multi-label rows (a 0/1 matrix),
    each label's negatives / positives, BCE's pos_weight, so a label's positives weigh as much
    as its negatives."""
    if class_weights is None:
        return None
    if class_weights != "balanced":
        raise NekaError(f"model.class_weights: unknown value {class_weights!r}; use balanced or null")
    if np.ndim(train_labels) == 2:
        positives = np.asarray(train_labels).sum(axis=0)
        weights = (len(train_labels) - positives) / np.maximum(positives, 1)
        log.info("positive weights per label: %s", np.round(weights, 3).tolist())
        return torch.tensor(weights, dtype=torch.float32)
    present = np.unique(train_labels)
    weights = np.ones(num_labels)
    weights[present] = compute_class_weight("balanced", classes=present, y=np.asarray(train_labels))
    log.info("class weights: %s", np.round(weights, 3).tolist())
    return torch.tensor(weights, dtype=torch.float32)


class NekaClassifier(pl.LightningModule):
    def __init__(self, num_labels: int, vocab_size: int, pad_id: int, optimizer: dict, scheduler: dict,
                 pretrained: str | None = None, encoder: dict | None = None, dr_rate: float = 0.1,
                 encoder_config: dict | None = None, class_weights: str | None = None,
                 train_labels: np.ndarray | None = None, task: str = "classification", regression_loss: str = "mse",
                 trust_remote_code: bool = False, attn_implementation: str = "sdpa", cpu_dropout: str = "auto",
                 cudnn_attention: bool = False, thresholds: float | str = 0.5, label_names: list[str] | None = None,
                 pooling: str = "auto", calibration: str | None = "temperature", window_aggregation: str = "mean"):
        """Multi-label runs (`task=multilabel`) name their labels (`label_names`, for the per-label
        F1 tags) and decide at `thresholds`: one number for every label, or `tune` (train.py fits one
        per label on the validation split after training). `window_aggregation` (data.window_aggregation):
        how a long row's windows' logits become the row's, mean or max (neka/model/windows.py)."""
        super().__init__()
        if regression_loss not in ("mse", "mae"):
            raise NekaError(f"model.regression_loss: unknown loss {regression_loss!r}; use mse or mae")
        if cpu_dropout not in CPU_DROPOUTS:
            raise NekaError(f"model.cpu_dropout: unknown value {cpu_dropout!r}; use one of {CPU_DROPOUTS}")
        if not isinstance(cudnn_attention, bool):
            raise NekaError(f"model.cudnn_attention: must be true or false, got {cudnn_attention!r}")
        if thresholds != "tune" and not (isinstance(thresholds, (int, float)) and 0 < thresholds < 1):
            raise NekaError(f"model.thresholds: {thresholds!r}; use a probability between 0 and 1, or tune")
        if calibration not in (None, "temperature"):
            raise NekaError(f"model.calibration: unknown value {calibration!r}; use temperature or null")
        Truncation(window_aggregation=window_aggregation)  # data's check of the value, for a model built alone
        if scheduler["name"] not in SCHEDULES:
            raise NekaError(f"scheduler.name: unknown schedule {scheduler['name']!r}; use one of {SCHEDULES}")
        self.save_hyperparameters(ignore=["train_labels"])
        self.encoder = build_encoder(pretrained, encoder, vocab_size, pad_id, encoder_config, trust_remote_code,
                                     attn_implementation)
        # saved in every checkpoint, so evaluate/predict rebuild the encoder offline, without model.pretrained
        self.hparams["encoder_config"] = self.encoder.config.to_dict()
        self.hparams["pooling"] = resolve_pooling(pooling, self.encoder)  # auto's answer, for the rebuilt model
        self.pooling = Pooling(self.hparams["pooling"], self.encoder)
        self.dropout = nn.Dropout(dr_rate)
        self.classifier = nn.Linear(self.encoder.config.hidden_size, num_labels)
        # attributes, not a ModuleDict: a key named "train" would shadow nn.Module.train
        is_regression = task == "regression"
        weights = None if is_regression else build_loss_weights(class_weights, train_labels, num_labels)
        self.register_buffer("loss_weights", weights, persistent=False)
        # logits / temperature outside training: 1 until train fits it (calibration.json), which runs set
        self.register_buffer("temperature", torch.ones(()), persistent=False)
        for split in ("train", "val", "test"):
            setattr(self, f"{split}_metrics", RegressionMetrics(regression_loss) if is_regression
                    else MultilabelMetrics(num_labels) if self.is_multilabel
                    else SplitMetrics(num_labels, calibration_error=split != "train"))
        if self.is_multilabel:
            self.set_thresholds([0.5 if thresholds == "tune" else float(thresholds)] * num_labels)
        self._logged_splits: set[str] = set()  # the splits whose metrics were logged this epoch
        for metric in self.train_metrics.modules():  # in checkpoints: a resumed epoch's train metrics
            if isinstance(metric, Metric):            # still count the batches before the kill
                metric.persistent(True)

    def setup(self, stage: str) -> None:
        """Dropout only acts in training, so its CPU sampler (neka/model/dropout.py) is chosen, and
        logged, when fitting starts: not when evaluate, predict or serve load a checkpoint.
        Likewise the attention kernels (neka/model/attention.py), which matter only in mixed precision."""
        if stage != "fit":
            return
        if choose_cpu_dropout(self.hparams.cpu_dropout) == "numpy":
            use_numpy_masks(self)
        allow_cudnn_attention(self.hparams.cudnn_attention)

    @property
    def is_multilabel(self) -> bool:
        return self.hparams.task == "multilabel"

    def set_thresholds(self, thresholds: list[float]) -> None:
        """The decision threshold of each label, for every split's metrics (multi-label runs)."""
        for split in ("train", "val", "test"):
            getattr(self, f"{split}_metrics").thresholds.copy_(torch.tensor(thresholds, dtype=torch.float32))

    def calibrated(self, logits: torch.Tensor) -> torch.Tensor:
        """Single-label logits divided by the fitted temperature (neka/runs/calibration.py): the same
        argmax, probabilities that match accuracy. Regression and multi-label outputs pass unchanged."""
        return logits / self.temperature if self.hparams.task == "classification" else logits

    def forward(self, input_ids: torch.Tensor, valid_length: torch.Tensor,
                token_type_ids: torch.Tensor) -> torch.Tensor:
        attention_mask = make_attention_mask(valid_length, input_ids.shape[1])
        outputs = self.encoder(input_ids=input_ids,
                               attention_mask=encoder_attention_mask(attention_mask, self.encoder.config,
                                                                     self.encoder.dtype),
                               **segment_inputs(self.encoder.config, token_type_ids))
        pooled = self.pooling(outputs, attention_mask)
        with full_precision(pooled.device):  # the logits the loss and metrics see, not rounded to bfloat16
            return self.classifier(self.dropout(pooled.float()))

    def row_logits(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """One row of logits per input row: a batch of windowed rows (neka/data/batching.py) pooled."""
        logits = self(batch["input_ids"], batch["valid_length"], batch["token_type_ids"])
        if "window_rows" in batch:
            logits = pool_windows(logits, batch["window_rows"], self.hparams.window_aggregation)
        return logits

    def _step(self, batch: dict[str, torch.Tensor], split: str) -> torch.Tensor:
        logits = self.row_logits(batch)
        if split != "train":
            logits = self.calibrated(logits)
        metrics: SplitMetrics | RegressionMetrics = getattr(self, f"{split}_metrics")
        loss = metrics.update(logits, batch["labels"], self.loss_weights if split == "train" else None)
        if split not in self._logged_splits:
            # Logged once per epoch: Lightning keeps the Metric objects and computes and resets them at
            # the epoch's end from what every update accumulated. A log call per batch would cost about
            # 1 ms each (Lightning moves each logged object to the device), 8 % of a tiny-BERT step.
            self.log_dict(metrics.named(split), on_step=False, on_epoch=True, prog_bar=split == "val")
            self._logged_splits.add(split)
        return loss

    def on_train_epoch_start(self) -> None:
        self._logged_splits.discard("train")

    def on_validation_epoch_start(self) -> None:
        self._logged_splits.discard("val")

    def on_test_epoch_start(self) -> None:
        self._logged_splits.discard("test")

    def _log_label_f1(self, split: str) -> None:
        if self.is_multilabel and split in self._logged_splits:
            names = self.hparams.label_names or [str(index) for index in range(self.hparams.num_labels)]
            self.log_dict(getattr(self, f"{split}_metrics").label_f1(split, names))

    def on_train_epoch_end(self) -> None:
        self._log_label_f1("train")

    def on_validation_epoch_end(self) -> None:
        self._log_label_f1("val")

    def on_test_epoch_end(self) -> None:
        self._log_label_f1("test")

    def training_step(self, batch: dict[str, torch.Tensor], batch_index: int) -> torch.Tensor:
        loss = self._step(batch, "train")
        log_step_loss(self, loss)  # torchmetrics reduce the other metrics across DDP ranks themselves
        return loss

    # Evaluation runs in float32 even when training autocasts to bf16: metrics.json, evaluate,
    # predict and serve then agree to 1e-6, whichever hardware (and precision) trained the run.
    def validation_step(self, batch: dict[str, torch.Tensor], batch_index: int) -> None:
        with full_precision(self.device):
            self._step(batch, "val")

    def test_step(self, batch: dict[str, torch.Tensor], batch_index: int) -> None:
        with full_precision(self.device):
            self._step(batch, "test")

    def predict_step(self, batch: dict[str, torch.Tensor], batch_index: int) -> torch.Tensor:
        """Class probabilities, (batch, num_labels); each label's probability for multi-label rows;
        for regression the value, (batch, 1)."""
        with full_precision(self.device):
            outputs = self.calibrated(self.row_logits(batch).float())
        if self.hparams.task == "regression":
            return outputs
        return outputs.sigmoid() if self.is_multilabel else outputs.softmax(dim=-1)

    def configure_optimizers(self):
        settings = dict(self.hparams.optimizer)
        if getattr(self.trainer.precision_plugin, "scaler", None) is not None:
            settings["fused"] = False  # 16-mixed: the fused step would unscale after clipping, not before
        optimizer, schedule = build_optimizer(self, settings, self.hparams.scheduler,
                                              total_steps=self.trainer.estimated_stepping_batches)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": schedule, "interval": "step"}}

    def configure_gradient_clipping(self, optimizer, gradient_clip_val=None, gradient_clip_algorithm=None) -> None:
        """Lightning's mixed-precision plugin refuses to clip for a fused optimizer, fearing loss-scaled
        gradients; bf16-mixed has no loss scaler, so its gradients are true-size and Lightning's plain
        clipping applies as it is."""
        plugin = self.trainer.precision_plugin
        if gradient_clip_val and isinstance(plugin, MixedPrecision) and plugin.scaler is None:
            Precision.clip_gradients(plugin, optimizer, gradient_clip_val,
                                     GradClipAlgorithmType(gradient_clip_algorithm or "norm"))
        else:
            self.clip_gradients(optimizer, gradient_clip_val=gradient_clip_val,
                                gradient_clip_algorithm=gradient_clip_algorithm)


def build_optimizer(module: nn.Module, optimizer: dict, scheduler: dict, total_steps: int):
    """AdamW without weight decay on biases and LayerNorm weights (BERT's recipe), and a
    warmup-then-decay schedule over the real number of optimizer steps."""
    no_decay = {id(p) for m in module.modules() if isinstance(m, nn.LayerNorm) for p in m.parameters()}
    no_decay |= {id(p) for name, p in module.named_parameters() if name.endswith("bias")}
    params = [p for p in module.parameters() if p.requires_grad]
    groups = [{"params": [p for p in params if id(p) not in no_decay], "weight_decay": optimizer["weight_decay"]},
              {"params": [p for p in params if id(p) in no_decay], "weight_decay": 0.0}]
    # fused: one kernel updates every parameter, instead of a loop of small ops per tensor
    adamw = torch.optim.AdamW(groups, lr=optimizer["lr"], eps=optimizer["eps"], fused=optimizer.get("fused", True))
    warmup_steps = math.ceil(scheduler["warmup_ratio"] * total_steps)
    schedule = get_scheduler(scheduler["name"], adamw, num_warmup_steps=warmup_steps, num_training_steps=total_steps)
    return adamw, schedule
