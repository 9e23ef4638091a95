"""A pretraining run from its config: texts, tokenizer, masked-language model, the Trainer neka.train
uses, and the encoder/ folder, metrics.json and summary it leaves."""

import logging
import time
import warnings
from pathlib import Path

from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf
from pytorch_lightning import seed_everything

from neka.model.families import check_max_len
from neka.pretraining.datamodule import TextDataModule
from neka.pretraining.encoder import ENCODER_DIR, fine_tune_command, save_encoder
from neka.pretraining.masking import TokenMasker
from neka.pretraining.model import NekaMaskedLM
from neka.pretraining.summary import format_pretrain_summary
from neka.runs.callbacks import early_stop_reason
from neka.runs.files import save_metrics, save_vocabulary
from neka.runs.fitting import build_trainer, tokenizer_source
from neka.runs.hparams import log_hparams
from neka.runs.interrupt import sigint_exit_code
from neka.runs.log_file import write_to_log_file

log = logging.getLogger(__name__)


def pretrain(cfg: DictConfig) -> dict[str, float]:
    """Fit, validate the best checkpoint, save its encoder and tokenizer; returns metrics keyed `split/name`."""
    started = time.perf_counter()
    run_dir = Path(cfg.paths.run_dir)
    seed_everything(cfg.seed, workers=True, verbose=False)
    tokenizer_factory, _ = tokenizer_source(cfg, run_dir)
    data: TextDataModule = instantiate(cfg.data, tokenizer_factory=tokenizer_factory, _convert_="all")
    data.setup("fit")  # the vocabulary exists only after setup
    model = NekaMaskedLM(TokenMasker(data.tokenizer, **cfg.mlm), len(data.tokenizer), data.pad_id,
                         OmegaConf.to_container(cfg.optimizer, resolve=True),
                         OmegaConf.to_container(cfg.scheduler, resolve=True), cfg.seed, cfg.model.pretrained,
                         OmegaConf.to_container(cfg.model.encoder, resolve=True) if cfg.model.encoder else None,
                         cfg.model.get("trust_remote_code", False), cfg.model.attn_implementation)
    check_max_len(data.max_len, model.mlm.config, data.tokenizer)
    if not cfg.resume:  # a resumed run keeps the vocabulary its checkpoints index
        save_vocabulary(run_dir, data.tokenizer)
    trainer, ckpt_path = build_trainer(cfg, run_dir, cfg.monitor, "mlm", "neka.pretrain")
    with sigint_exit_code(trainer), warnings.catch_warnings():
        # the masks are the model's (their generators are in its checkpoints, neka/pretraining/model.py);
        # Lightning warns whenever a LightningModule, not the DataModule, changes batches before transfer
        warnings.filterwarnings("ignore", message="You have overridden `on_before_batch_transfer` in `LightningModule`")
        trainer.fit(model, datamodule=data, ckpt_path=ckpt_path, weights_only=True)
        best = trainer.checkpoint_callback.best_model_path or None  # None under fast_dev_run: current weights
        stopped_early = early_stop_reason(trainer)
        if stopped_early:
            log.info(stopped_early)
        metrics = trainer.validate(model, datamodule=data, ckpt_path=best, verbose=False)[0]
    encoder_dir = run_dir / ENCODER_DIR
    save_encoder(model.mlm, data.tokenizer, encoder_dir)  # validate loaded the best weights into the model
    log_hparams(trainer.logger, cfg, metrics)
    save_metrics(run_dir, metrics)
    log.info("run complete: wrote %s", run_dir / "metrics.json")
    if trainer.is_global_zero:
        sizes = {split: len(rows) for split, rows in data.encoded.items()}
        summary = format_pretrain_summary(metrics, run_dir, best, sizes, data.origins,
                                          sum(p.numel() for p in model.mlm.parameters()), len(data.tokenizer),
                                          time.perf_counter() - started, encoder_dir,
                                          fine_tune_command(encoder_dir, is_from_scratch=not cfg.model.pretrained),
                                          [stopped_early] if stopped_early else [])
        print(summary, flush=True)
        write_to_log_file(log, logging.INFO, f"summary:\n{summary}")
    return metrics
