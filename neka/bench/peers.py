"""The four ways to fine-tune the same encoder on the same rows that the benchmark compares,
and neka with one lever turned off at a time. Each runs in its own process and returns what
it measured."""

import contextlib
import json
import math
import sys
import tempfile
import time
import traceback
from functools import partial
from pathlib import Path

import pandas as pd
import torch
import torch.nn.functional as F

SEED_RECIPE = {"max_len": 64, "batch_size": 64, "lr": 5e-5, "warmup_ratio": 0.1, "max_grad_norm": 1.0}


def load_recipe(workdir: Path) -> dict:
    """The hyper-parameters every peer of this invocation uses (the KoBERT notebook's, `--max-len` aside),
    and the `--device` they train on."""
    return json.loads((workdir / "recipe.json").read_text())


def _accuracy_and_ce(logits: torch.Tensor, labels: torch.Tensor) -> tuple[float, float]:
    return float((logits.argmax(-1) == labels).float().mean()), float(F.cross_entropy(logits.float(), labels))


def synchronize(device: torch.device) -> None:
    """GPU work is queued: a clock read is only true once the queue has run."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


class _Counter:
    """Real and computed (padded) tokens of the training batches. Each batch's lengths are kept
    and summed at the end: an int() per batch on a GPU tensor would wait for the GPU every step."""

    def __init__(self):
        self._batches: list[tuple[torch.Tensor, int]] = []  # (row lengths, padded width)

    def add(self, lengths: torch.Tensor, width: int) -> None:
        self._batches.append((lengths.detach(), width))

    def totals(self) -> dict[str, int]:
        lengths = [batch.long().cpu() for batch, _ in self._batches]
        return {"steps": len(lengths), "rows": sum(len(batch) for batch in lengths),
                "real_tokens": sum(int(b.sum()) for b in lengths),
                "squares": sum(int((b ** 2).sum()) for b in lengths),
                "computed_tokens": sum(len(b) * width for b, (_, width) in zip(lengths, self._batches))}


# neka with one lever turned off each: the gain of every lever its defaults keep
NEKA_LEVERS = {  # name: (what the defaults do that this row does not, the overrides that turn it off)
    "neka_fp32": ("bf16 autocast where native", ["trainer.precision=32-true"]),
    "neka_random_batches": ("length-grouped batches", ["data.group_by_length=false"]),
    "neka_pad_max_len": ("length-grouped batches and dynamic padding",
                         ["data.group_by_length=false", "data.pad_to_max_len=true"]),
    "neka_eager_attention": ("the encoder's SDPA attention", ["model.attn_implementation=eager"]),
    "neka_unfused_adamw": ("fused AdamW", ["optimizer.fused=false"]),
    "neka_torch_dropout": ("dropout masks drawn by numpy on CPU", ["model.cpu_dropout=torch"]),
    "neka_cudnn_attention": ("attention without cuDNN's per-shape plans", ["model.cudnn_attention=true"]),
}
# levers that act on one kind of device only
LEVER_DEVICE = {"neka_torch_dropout": "cpu", "neka_cudnn_attention": "cuda", "neka_compiled": "cuda"}


def compose_train(overrides: list[str]):
    """neka.train's config with these overrides, as `python -m neka.train` composes it, for the
    benchmarks that call its `run()` in-process; without progress bar or model summary, since
    they print their own tables."""
    from neka.cli.configs import compose_config

    return compose_config("train", ["+trainer.enable_progress_bar=false", "+trainer.enable_model_summary=false",
                                    *overrides])


def run_neka(workdir: Path, epochs: int, seed: int, overrides: list[str] = (), callbacks: tuple = ()) -> dict:
    from pytorch_lightning import Callback  # here, not at the top: the other peers' memory must not include it

    import neka  # noqa: F401  registers the resolvers
    from neka.train import run

    counter, clock, recipe = _Counter(), {}, load_recipe(workdir)
    device = torch.device(recipe["device"])

    class Timer(Callback):
        def on_train_start(self, trainer, module):
            clock["precision"] = "bf16" if "bf16" in str(trainer.precision) else "fp32"
            clock["tokenize"] = trainer.datamodule.encoding_seconds
            synchronize(device)
            clock["start"] = time.perf_counter()

        def on_train_epoch_start(self, trainer, module):
            synchronize(device)
            clock["epoch_start"] = time.perf_counter()

        def on_train_batch_start(self, trainer, module, batch, batch_index):
            counter.add(batch["valid_length"], batch["input_ids"].shape[1])

        def on_validation_start(self, trainer, module):
            """An epoch's steps end where its validation starts: the steps alone, as the other peers time them."""
            if "epoch_start" in clock:  # not the sanity check before the first epoch
                synchronize(device)
                clock["steps"] = clock.get("steps", 0.0) + time.perf_counter() - clock.pop("epoch_start")

        def on_train_end(self, trainer, module):
            synchronize(device)
            clock["train"] = time.perf_counter() - clock["start"]

        def on_test_start(self, trainer, module):
            synchronize(device)
            clock["test_start"] = time.perf_counter()

        def on_test_end(self, trainer, module):
            synchronize(device)
            clock["test"] = time.perf_counter() - clock["test_start"]
            clock["test_rows"] = len(trainer.datamodule.encoded["test"])

    cfg = compose_train([
        "model=bert", f"model.pretrained={workdir / 'encoder'}", f"data.path={workdir / 'train.tsv'}",
        f"data.max_len={recipe['max_len']}", f"data.batch_size={recipe['batch_size']}",
        f"optimizer.lr={recipe['lr']}", f"scheduler.warmup_ratio={recipe['warmup_ratio']}",
        f"trainer.gradient_clip_val={recipe['max_grad_norm']}", f"seed={seed}",
        f"data.val_path={workdir / 'val.tsv'}", f"data.test_path={workdir / 'test.tsv'}",
        f"trainer.max_epochs={epochs}", f"trainer.accelerator={'gpu' if device.type == 'cuda' else 'cpu'}",
        "data.cache_dir=null",  # every repeat tokenizes, as the peers do
        "callbacks.early_stopping=null",  # every epoch, as the peers train
        "scheduler=linear",
        f"paths.run_dir={tempfile.mkdtemp(dir=workdir, prefix='neka-run-')}",
        *overrides])
    metrics = run(cfg, extra_callbacks=[*callbacks, Timer()])
    # train_seconds: the whole fit, with validation and checkpoints; step_seconds: the training steps alone
    return {"train_seconds": clock["train"], "step_seconds": clock.get("steps", clock["train"]),
            "tokenize_seconds": clock["tokenize"], **counter.totals(),
            "test_acc": metrics["test/acc"], "test_ce": metrics["test/ce"],
            "test_seconds": clock["test"], "test_rows": clock["test_rows"],  # evaluation speed, neka only
            "precision": clock["precision"]}


def run_hf_trainer(workdir: Path, epochs: int, seed: int, tuned: bool) -> dict:
    """As practitioners use it: AutoModelForSequenceClassification + DataCollatorWithPadding,
    no evaluation or saving during training. `tuned`: length-grouped sampling and bf16."""
    from transformers import (
        AutoModelForSequenceClassification,
        AutoTokenizer,
        DataCollatorWithPadding,
        Trainer,
        TrainingArguments,
        set_seed,
    )

    from neka.model.precision import has_native_bf16

    set_seed(seed)
    recipe = load_recipe(workdir)
    device = torch.device(recipe["device"])
    tokenizer = AutoTokenizer.from_pretrained(workdir / "encoder")
    train, test = (pd.read_csv(workdir / name, sep="\t") for name in ("train.tsv", "test.tsv"))
    started = time.perf_counter()
    encoded = [tokenizer(frame["document"].tolist(), truncation=True, max_length=recipe["max_len"])
               for frame in (train, test)]
    tokenize_seconds = time.perf_counter() - started
    rows = [[{"input_ids": ids, "token_type_ids": types, "attention_mask": mask, "labels": int(label)}
             for ids, types, mask, label in zip(e["input_ids"], e["token_type_ids"], e["attention_mask"], f["label"])]
            for e, f in zip(encoded, (train, test))]
    counter, training = _Counter(), {"now": False}
    padding = DataCollatorWithPadding(tokenizer)

    def collate(features):
        batch = padding(features)
        if training["now"]:  # training batches only, not the test predictions
            counter.add(batch["attention_mask"].sum(dim=1), batch["attention_mask"].shape[1])
        return batch

    model = AutoModelForSequenceClassification.from_pretrained(workdir / "encoder", num_labels=2)
    bf16 = tuned and has_native_bf16("gpu" if device.type == "cuda" else "cpu")  # neka's trainer.precision=auto
    fields = TrainingArguments.__dataclass_fields__  # transformers 5.0 and 5.1 call it group_by_length
    grouping = ({"train_sampling_strategy": "group_by_length" if tuned else "random"}
                if "train_sampling_strategy" in fields else {"group_by_length": tuned})
    arguments = TrainingArguments(
        output_dir=str(workdir / "hf-run"), per_device_train_batch_size=recipe["batch_size"],
        per_device_eval_batch_size=recipe["batch_size"], num_train_epochs=epochs,
        learning_rate=recipe["lr"], warmup_steps=recipe["warmup_ratio"],  # a float: a share of steps
        max_grad_norm=recipe["max_grad_norm"], weight_decay=0.01, eval_strategy="no", save_strategy="no",
        logging_strategy="no", report_to=[], use_cpu=device.type == "cpu", seed=seed, bf16=bf16,
        disable_tqdm=True, **grouping)
    trainer = Trainer(model=model, args=arguments, train_dataset=rows[0], data_collator=collate)
    synchronize(device)
    training["now"], started = True, time.perf_counter()
    trainer.train()
    synchronize(device)
    training["now"], train_seconds = False, time.perf_counter() - started
    prediction = trainer.predict(rows[1])
    accuracy, ce = _accuracy_and_ce(torch.tensor(prediction.predictions), torch.tensor(prediction.label_ids))
    return {"train_seconds": train_seconds, "tokenize_seconds": tokenize_seconds, **counter.totals(),
            "test_acc": accuracy, "test_ce": ce, "precision": "bf16" if bf16 else "fp32"}


def run_seed_loop(workdir: Path, epochs: int, seed: int) -> dict:
    """The KoBERT fine-tuning notebook's loop: every row padded to max_len, the mask built by a Python loop,
    clip_grad_norm_, scheduler.step() each batch. As in the notebook, token and segment ids and
    labels go to the device, the valid lengths stay on the host."""
    from transformers import AutoTokenizer, BertModel, get_linear_schedule_with_warmup

    torch.manual_seed(seed)
    recipe = load_recipe(workdir)
    device = torch.device(recipe["device"])
    tokenizer = AutoTokenizer.from_pretrained(workdir / "encoder")
    train, test = (pd.read_csv(workdir / name, sep="\t") for name in ("train.tsv", "test.tsv"))
    started = time.perf_counter()
    tensors = [tokenizer(frame["document"].tolist(), truncation=True, padding="max_length",
                         max_length=recipe["max_len"], return_tensors="pt") for frame in (train, test)]
    tokenize_seconds = time.perf_counter() - started
    bert = BertModel.from_pretrained(workdir / "encoder").to(device)
    classifier = torch.nn.Sequential(torch.nn.Dropout(0.1), torch.nn.Linear(bert.config.hidden_size, 2)).to(device)
    no_decay = ["bias", "LayerNorm.weight"]
    named = [*bert.named_parameters(), *classifier.named_parameters()]
    optimizer = torch.optim.AdamW([
        {"params": [p for n, p in named if not any(nd in n for nd in no_decay)], "weight_decay": 0.01},
        {"params": [p for n, p in named if any(nd in n for nd in no_decay)], "weight_decay": 0.0}],
        lr=recipe["lr"])
    steps_per_epoch = math.ceil(len(train) / recipe["batch_size"])
    total = steps_per_epoch * epochs
    scheduler = get_linear_schedule_with_warmup(optimizer, int(total * recipe["warmup_ratio"]), total)

    def logits_of(token_ids, valid_length, segment_ids, training):
        token_ids, segment_ids = token_ids.to(device), segment_ids.to(device)
        attention_mask = torch.zeros_like(token_ids)
        for i, v in enumerate(valid_length):  # the notebook's gen_attention_mask
            attention_mask[i][:v] = 1
        bert.train(training), classifier.train(training)
        pooled = bert(input_ids=token_ids, token_type_ids=segment_ids, attention_mask=attention_mask).pooler_output
        return classifier(pooled)

    counter = _Counter()
    labels = [torch.tensor(frame["label"].to_numpy()) for frame in (train, test)]
    synchronize(device)
    started = time.perf_counter()
    for _ in range(epochs):
        for index in torch.randperm(len(train)).split(recipe["batch_size"]):
            batch = {key: value[index] for key, value in tensors[0].items()}
            valid_length = batch["attention_mask"].sum(1)
            logits = logits_of(batch["input_ids"], valid_length, batch["token_type_ids"], True)
            counter.add(valid_length, recipe["max_len"])  # every row padded to max_len: all of it is computed
            loss = F.cross_entropy(logits, labels[0][index].to(device))
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_([p for _, p in named], recipe["max_grad_norm"])
            optimizer.step()
            scheduler.step()
    synchronize(device)
    train_seconds = time.perf_counter() - started
    with torch.inference_mode():
        logits = torch.cat([logits_of(tensors[1]["input_ids"][i], tensors[1]["attention_mask"][i].sum(1),
                                      tensors[1]["token_type_ids"][i], False).cpu()
                            for i in torch.arange(len(test)).split(256)])
    accuracy, ce = _accuracy_and_ce(logits, labels[1])
    return {"train_seconds": train_seconds, "tokenize_seconds": tokenize_seconds, **counter.totals(),
            "test_acc": accuracy, "test_ce": ce}


def run_neka_compiled(workdir: Path, epochs: int, seed: int) -> dict:
    """neka with its encoder compiled by `torch.compile(mode="reduce-overhead", dynamic=True)`: one
    compilation for every batch width, and on a GPU a CUDA graph recorded per width and replayed, so a
    step is a few launches instead of one per kernel. A lever row of `neka.bench.gpu_check`, not a
    neka setting: on the CPU compiling cost 40 s and gained nothing (RESULTS.md, levers)."""
    from pytorch_lightning import Callback

    class CompileEncoder(Callback):
        def on_fit_start(self, trainer, module):
            module.encoder.compile(mode="reduce-overhead", dynamic=True)  # in place: checkpoint keys unchanged

    return run_neka(workdir, epochs, seed, callbacks=(CompileEncoder(),))


PEERS = {"neka": run_neka, "hf_trainer": partial(run_hf_trainer, tuned=False),
         "hf_trainer_tuned": partial(run_hf_trainer, tuned=True), "seed_loop": run_seed_loop,
         **{name: partial(run_neka, overrides=overrides) for name, (_, overrides) in NEKA_LEVERS.items()},
         "neka_compiled": run_neka_compiled}


def measure_peer(name: str, workdir: str, epochs: int, seed: int, threads: int, queue) -> None:
    """Child-process entry: runs one peer and reports its figures and its own peak memory. What
    a peer prints (neka's run summary, the Trainer's log lines) goes to stderr: stdout is the
    benchmark's table or JSON alone, which `--json > figures.json` relies on."""
    import resource

    torch.set_num_threads(threads)
    try:
        with contextlib.redirect_stdout(sys.stderr):
            result = PEERS[name](Path(workdir), epochs, seed)
    except Exception:  # noqa: BLE001  the parent waits on the queue: it must hear about any failure
        queue.put({"error": traceback.format_exc()})
        raise
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if torch.cuda.is_initialized():  # the peer trained on the GPU: its own peak there (this process's alone)
        result["peak_gpu_mb"] = torch.cuda.max_memory_allocated() / 2 ** 20
    result.setdefault("precision", "fp32")
    queue.put(result)
