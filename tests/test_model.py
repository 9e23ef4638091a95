import numpy as np
import pytest
import torch
import torch.nn.functional as F
from sklearn.metrics import r2_score

from neka.errors import NekaError
from neka.model.classifier import NekaClassifier, build_encoder, build_optimizer, make_attention_mask
from neka.model.metrics import SplitMetrics, metrics_of_outputs

from conftest import OPTIMIZER, SCHEDULER, TINY


def seed_attention_mask(token_ids, valid_length):
    """The KoBERT notebook's gen_attention_mask, loop and all."""
    attention_mask = torch.zeros_like(token_ids)
    for i, v in enumerate(valid_length):
        attention_mask[i][:v] = 1
    return attention_mask.float()


def test_attention_mask_equals_the_seeds_loop():
    generator = torch.Generator().manual_seed(0)
    valid_length = torch.randint(1, 65, (64,), generator=generator)
    token_ids = torch.randint(5, 100, (64, 64), generator=generator)
    assert torch.equal(make_attention_mask(valid_length, 64).float(), seed_attention_mask(token_ids, valid_length))


def test_classifier_takes_hidden_size_from_the_encoder_and_classes_from_the_data():
    model = NekaClassifier(num_labels=3, vocab_size=50, pad_id=1, optimizer=OPTIMIZER, scheduler=SCHEDULER,
                           encoder=TINY)
    assert model.classifier.in_features == 32 and model.classifier.out_features == 3
    logits = model(torch.randint(5, 50, (4, 7)), torch.tensor([7, 5, 3, 1]), torch.zeros(4, 7, dtype=torch.long))
    assert logits.shape == (4, 3)


def test_padding_does_not_change_the_logits():
    model = NekaClassifier(num_labels=2, vocab_size=50, pad_id=1, optimizer=OPTIMIZER, scheduler=SCHEDULER,
                           encoder=TINY).eval()
    ids = torch.tensor([[2, 10, 11, 3]])
    padded = torch.cat([ids, torch.ones(1, 6, dtype=torch.long)], dim=1)
    short = model(ids, torch.tensor([4]), torch.zeros_like(ids))
    long = model(padded, torch.tensor([4]), torch.zeros_like(padded))
    assert torch.allclose(short, long, atol=1e-5)


def test_metrics_are_accuracy_cross_entropy_and_probability_mse():
    metrics = SplitMetrics(num_labels=3)
    logits = torch.tensor([[2.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 3.0], [1.0, 0.0, 0.0]])
    labels = torch.tensor([0, 2, 2, 1])
    metrics.update(logits[:2], labels[:2])
    metrics.update(logits[2:], labels[2:])
    assert metrics.acc.compute().item() == pytest.approx(0.5)
    assert metrics.ce.compute().item() == pytest.approx(F.cross_entropy(logits, labels).item(), rel=1e-6)
    expected_mse = ((logits.softmax(-1) - F.one_hot(labels, 3)) ** 2).mean().item()
    assert metrics.mse.compute().item() == pytest.approx(expected_mse, rel=1e-6)


def test_no_weight_decay_on_biases_and_layer_norms():
    model = NekaClassifier(num_labels=2, vocab_size=50, pad_id=1, optimizer=OPTIMIZER, scheduler=SCHEDULER,
                           encoder=TINY)
    optimizer, schedule = build_optimizer(model, OPTIMIZER, SCHEDULER, total_steps=100)
    decayed, plain = optimizer.param_groups
    names = {id(p): n for n, p in model.named_parameters()}
    assert all(not names[id(p)].endswith("bias") and "LayerNorm" not in names[id(p)] for p in decayed["params"])
    assert any("LayerNorm" in names[id(p)] for p in plain["params"]) and plain["weight_decay"] == 0.0
    rates = []
    for _ in range(100):
        rates.append(schedule.get_last_lr()[0])
        optimizer.step()
        schedule.step()
    assert int(np.argmax(rates)) == 10  # warmup_ratio 0.1 of 100 steps
    assert rates[-1] < rates[50] < rates[10] == pytest.approx(5e-5)


def test_pretrained_encoder_smaller_than_the_vocabulary_is_refused(tmp_path):
    encoder = build_encoder(None, TINY, vocab_size=40, pad_id=0)
    encoder.save_pretrained(tmp_path)
    assert build_encoder(str(tmp_path), None, vocab_size=40, pad_id=0).config.hidden_size == 32
    with pytest.raises(NekaError, match="embeds 40 tokens but the tokenizer has 41"):
        build_encoder(str(tmp_path), None, vocab_size=41, pad_id=0)


def test_unknown_schedule_is_refused():
    with pytest.raises(NekaError, match="scheduler.name: unknown schedule 'step'"):
        NekaClassifier(num_labels=2, vocab_size=50, pad_id=1, optimizer=OPTIMIZER,
                       scheduler={"name": "step", "warmup_ratio": 0.1}, encoder=TINY)


def test_attention_implementation_reaches_the_encoder():
    for implementation in ("sdpa", "eager"):
        model = NekaClassifier(num_labels=2, vocab_size=50, pad_id=1, optimizer=OPTIMIZER, scheduler=SCHEDULER,
                               encoder=TINY, attn_implementation=implementation)
        assert model.encoder.config._attn_implementation == implementation


@pytest.mark.parametrize("precision", ["32-true", "bf16-mixed"])
def test_fused_adamw_steps_with_clipped_gradients(precision):
    """Lightning refuses to clip for a fused optimizer under mixed precision; neka clips bf16's
    unscaled gradients itself. The optimizer must see gradients clipped to the norm."""
    from pytorch_lightning import Callback, Trainer
    from torch.utils.data import DataLoader

    from neka.data.batching import Collate

    seen = []

    class GradientNorm(Callback):
        def on_train_start(self, trainer, module):
            optimizer = trainer.optimizers[0]
            assert optimizer.defaults["fused"]
            optimizer.register_step_pre_hook(lambda opt, *_: seen.append(float(torch.nn.utils.get_total_norm(
                [p.grad for group in opt.param_groups for p in group["params"] if p.grad is not None]))))

    model = NekaClassifier(num_labels=2, vocab_size=50, pad_id=1, optimizer={**OPTIMIZER, "lr": 1e-3},
                           scheduler=SCHEDULER, encoder=TINY)
    rows = [(np.arange(2, 2 + n) % 50, n, n % 2) for n in range(3, 19)]
    trainer = Trainer(precision=precision, gradient_clip_val=1e-3, max_steps=2, accelerator="cpu", logger=False,
                      enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
                      callbacks=[GradientNorm()])
    trainer.fit(model, DataLoader(rows, batch_size=8, collate_fn=Collate(pad_id=1)))
    assert len(seen) == 2 and all(norm <= 1e-3 * 1.01 for norm in seen)


@pytest.mark.parametrize("overrides, allowed", [([], False), (["model.cudnn_attention=true"], True)])
def test_fitting_sets_whether_attention_may_use_cudnn(overrides, allowed):
    """cuDNN's attention plans every new batch shape (neka/model/attention.py): left out of training
    unless asked for. Evaluation runs in float32, where it does not apply: torch's switch stays as it was."""
    from hydra.utils import instantiate
    from pytorch_lightning import Callback, Trainer
    from torch.utils.data import DataLoader

    from neka.cli.configs import compose_config
    from neka.data.batching import Collate

    seen = {}

    class CudnnSwitch(Callback):
        def on_validation_start(self, trainer, module):
            seen.setdefault("validate", torch.backends.cuda.cudnn_sdp_enabled())

        def on_train_start(self, trainer, module):
            seen["fit"] = torch.backends.cuda.cudnn_sdp_enabled()

    cfg = compose_config("train", overrides)  # the model as neka.train instantiates it
    model = instantiate(cfg.model, num_labels=2, vocab_size=50, pad_id=1, optimizer=cfg.optimizer,
                        scheduler=cfg.scheduler, _convert_="all")
    rows = DataLoader([(np.arange(2, 2 + n) % 50, n, n % 2) for n in range(3, 7)], batch_size=4,
                      collate_fn=Collate(pad_id=1))
    trainer = Trainer(max_steps=1, accelerator="cpu", logger=False, enable_checkpointing=False,
                      enable_progress_bar=False, enable_model_summary=False, callbacks=[CudnnSwitch()])
    torch.backends.cuda.enable_cudnn_sdp(not allowed)
    try:
        trainer.validate(model, rows, verbose=False)
        trainer.fit(model, rows)
    finally:
        torch.backends.cuda.enable_cudnn_sdp(True)  # torch's own default, for the tests after this one
    assert seen == {"validate": not allowed, "fit": allowed}


def test_cudnn_attention_must_be_a_boolean():
    with pytest.raises(NekaError, match="model.cudnn_attention: must be true or false, got 'auto'"):
        NekaClassifier(num_labels=2, vocab_size=50, pad_id=1, optimizer=OPTIMIZER, scheduler=SCHEDULER,
                       encoder=TINY, cudnn_attention="auto")


def test_evaluation_metrics_from_probabilities_are_the_training_metrics_from_logits():
    logits = torch.tensor([[2.0, 0.0, -1.0], [0.0, 1.0, 0.0], [0.0, 0.5, 3.0], [1.0, 0.0, 0.0]])
    labels = torch.tensor([0, 2, 2, 1])
    training = SplitMetrics(num_labels=3)
    training.update(logits, labels)
    evaluated = metrics_of_outputs(logits.softmax(-1).numpy(), labels.numpy(), "test", "classification")
    assert evaluated == pytest.approx({f"test_{name}": metric.compute().item()
                                       for name, metric in (("acc", training.acc), ("ce", training.ce),
                                                            ("mse", training.mse), ("ece", training.ece))}, rel=1e-6)
    underflow = torch.tensor([[300.0, 0.0]]).softmax(-1).numpy()  # the label's probability is 0.0 in float32
    assert np.isfinite(metrics_of_outputs(underflow, np.array([1]), "test", "classification")["test_ce"])
    values, targets = np.array([[1.0], [2.5], [2.0]], dtype=np.float32), np.array([1.5, 2.5, 3.0], dtype=np.float32)
    assert metrics_of_outputs(values, targets, "val", "regression") == pytest.approx(
        {"val_mse": 1.25 / 3, "val_mae": 0.5, "val_r2": r2_score(targets, values[:, 0])}, rel=1e-4)
