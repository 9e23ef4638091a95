import contextlib
import importlib
import io
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import huggingface_hub
import numpy as np
import pandas as pd
import pytest
import torch
from hydra.core.global_hydra import GlobalHydra
from hydra.core.hydra_config import HydraConfig
from transformers import BertTokenizer

from neka.data.batching import Collate, EncodedDataset
from neka.data.transform import encode_rows
from neka.tokenization.huggingface import HFTokenizer

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"  # the datasets beside the repository

# NekaClassifier's optimizer and scheduler settings, and a small encoder, for tests that build one directly
OPTIMIZER = {"lr": 5e-5, "weight_decay": 0.01, "eps": 1e-8}
SCHEDULER = {"name": "linear", "warmup_ratio": 0.1}
TINY = {"num_hidden_layers": 1, "hidden_size": 32, "num_attention_heads": 2, "intermediate_size": 64}


def run_neka(*args: str, cwd: Path, module: str = "neka.train", env: dict[str, str] | None = None,
             timeout: int = 300) -> subprocess.CompletedProcess:
    """The real command, as a user types it."""
    return subprocess.run([sys.executable, "-m", module, *args], cwd=cwd, capture_output=True, text=True,
                          env=env, timeout=timeout)


def start_in_foreground(command: list[str], **options) -> subprocess.Popen:
    """A process as a terminal's shell starts one, with Ctrl-C (SIGINT) at its default, for tests
    that press it: where pytest itself runs with SIGINT ignored (a script's `pytest &` starts it
    so), a child would inherit that and never see the signal. A handler of Python's own is reset
    to the default at exec."""
    ignored = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        return subprocess.Popen(command, **options)
    finally:
        signal.signal(signal.SIGINT, ignored)


def kill_after_first_step_checkpoint(folder: Path, run_name: str, settings: Sequence[str],
                                     module: str = "neka.train") -> None:
    """`python -m neka.train` (or `module`) with `settings` (a step checkpoint among them) in folder/run_name,
    killed with SIGKILL as soon as its first step checkpoint is on disk: a run that resume= must continue."""
    process = subprocess.Popen([sys.executable, "-m", module, *settings, f"hydra.run.dir={run_name}"],
                               cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    checkpoints = folder / run_name / "checkpoints"
    deadline = time.monotonic() + 120
    while not list(checkpoints.glob("step*.ckpt")):
        assert process.poll() is None, process.stderr.read()[-3000:]
        assert time.monotonic() < deadline
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait()


def run_in_process(*args: str, cwd: Path, module: str = "neka.train") -> subprocess.CompletedProcess:
    """The same command in this process, through its own entry point (`command()`, or a script's
    `main()`), with the same arguments: Hydra's job (run folder, saved config, train.log, Hydra's
    callbacks), the one-line errors and the exit code, without a new interpreter's 8 s of imports.
    For checks whose contract is not about a process; warnings go to pytest, not to stderr.
    Other exceptions propagate, as the traceback a process would print, with what the command had
    printed on stderr added as a note."""
    imported = importlib.import_module(module)
    if hasattr(imported, "__path__"):  # a package run with -m: its __main__
        imported = importlib.import_module(f"{module}.__main__")
    entry = getattr(imported, "command", None) or imported.main
    stdout, stderr = io.StringIO(), io.StringIO()
    with restored_process_state(), contextlib.chdir(cwd), contextlib.redirect_stdout(stdout), \
            contextlib.redirect_stderr(stderr):
        sys.argv = [module, *args]
        try:
            entry()
            returncode = 0
        except SystemExit as exit_request:  # the status the interpreter would exit with
            code = exit_request.code
            returncode = code if isinstance(code, int) else 0 if code is None else 1
            if isinstance(code, str):
                print(code, file=sys.stderr)
        except Exception as error:
            error.add_note(f"stderr of {module} {' '.join(args)}:\n{stderr.getvalue()[-3000:]}")
            raise
    return subprocess.CompletedProcess([module, *args], returncode, stdout.getvalue(), stderr.getvalue())


@contextlib.contextmanager
def restored_process_state() -> Iterator[None]:
    """What a command sets for its process, put back: the command line, the environment (Lightning's
    seed variables), Hydra's logging handlers and levels, its global config and search path, and
    torch's process-wide switches (deterministic mode, threads, cuDNN attention)."""
    root = logging.getLogger()
    handlers = list(root.handlers)
    loggers = [root, *(logger for logger in logging.Logger.manager.loggerDict.values()
                       if isinstance(logger, logging.Logger))]
    levels = {logger: (logger.level, logger.disabled, logger.propagate) for logger in loggers}
    argv, environment = list(sys.argv), dict(os.environ)
    hydra_config = HydraConfig.instance().cfg
    deterministic, threads = torch.are_deterministic_algorithms_enabled(), torch.get_num_threads()
    cudnn_attention = torch.backends.cuda.cudnn_sdp_enabled()
    try:
        yield
    finally:
        for handler in list(root.handlers):
            if handler not in handlers:
                root.removeHandler(handler)
                handler.close()
        for handler in handlers:
            if handler not in root.handlers:
                root.addHandler(handler)
        for logger, (level, disabled, propagate) in levels.items():
            logger.setLevel(level)
            logger.disabled, logger.propagate = disabled, propagate
        sys.argv = argv
        os.environ.clear()
        os.environ.update(environment)
        HydraConfig.instance().cfg = hydra_config
        GlobalHydra.instance().clear()
        torch.use_deterministic_algorithms(deterministic)
        torch.set_num_threads(threads)
        torch.backends.cuda.enable_cudnn_sdp(cudnn_attention)


def assert_user_error(result, *fragments: str) -> None:
    assert result.returncode == 2, result.stderr[-2000:]
    error_lines = [line for line in result.stderr.splitlines() if line.startswith("neka: error:")]
    assert len(error_lines) == 1, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in error_lines[0]


def gluonnlp_transform(tokens_a, tokens_b, max_seq_length, cls, sep, pad):
    """BERTSentenceTransform(pad=True) as gluonnlp documents it: the test's independent oracle."""
    tokens_a, tokens_b = list(tokens_a), None if tokens_b is None else list(tokens_b)
    if tokens_b is not None:
        while len(tokens_a) + len(tokens_b) > max_seq_length - 3:
            (tokens_a if len(tokens_a) > len(tokens_b) else tokens_b).pop()
    else:
        tokens_a = tokens_a[: max_seq_length - 2]
    tokens, segments = [cls, *tokens_a, sep], [0] * (len(tokens_a) + 2)
    if tokens_b is not None:
        tokens += [*tokens_b, sep]
        segments += [1] * (len(tokens_b) + 1)
    valid_length = len(tokens)
    padding = max_seq_length - valid_length
    return tokens + [pad] * padding, valid_length, segments + [0] * padding


def assert_matches_gluonnlp(tokenizer, fields: list[list[str]], max_len: int) -> dict:
    """neka's encode + collate(pad_to=max_len) against the oracle, row by row; one field or a pair."""
    rows = encode_rows([tokenizer.encode_batch(texts) for texts in fields], np.zeros(len(fields[0])),
                       tokenizer.cls_id, tokenizer.sep_id, max_len, pair=len(fields) == 2)
    dataset = EncodedDataset(rows)
    batch = Collate(tokenizer.pad_id, pad_to=max_len)([dataset[i] for i in range(len(dataset))])
    second_field = tokenizer.encode_batch(fields[1]) if len(fields) == 2 else [None] * len(fields[0])
    for row, (ids_a, ids_b) in enumerate(zip(tokenizer.encode_batch(fields[0]), second_field)):
        expected, valid_length, segments = gluonnlp_transform(ids_a, ids_b, max_len, tokenizer.cls_id,
                                                              tokenizer.sep_id, tokenizer.pad_id)
        assert batch["input_ids"][row].tolist() == expected
        assert batch["valid_length"][row].item() == valid_length
        assert batch["token_type_ids"][row].tolist() == segments
    return batch


@pytest.fixture
def word_tokenizer() -> HFTokenizer:
    """A BERT tokenizer over a hand-written vocabulary, so tests know every id."""
    pieces = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "1", "87", "63", "2", "91", "70", "영화", "최고", "별로",
              "##다", "좋", "싫", "a", "b", "c", "d", "e"]
    vocab = {piece: index for index, piece in enumerate(pieces)}
    return HFTokenizer(BertTokenizer(vocab=vocab, do_lower_case=False), "words")


@pytest.fixture
def grades_table() -> pd.DataFrame:
    """The KoBERT notebook's tabular example: id, midterm, final, age -> letter grade (age is useless)."""
    rows = []
    for index in range(60):
        midterm = 50 + (index * 7) % 50
        final = 40 + (index * 13) % 60
        total = midterm + final
        grade = "A" if total >= 150 else "B" if total >= 120 else "C"
        rows.append({"id": index + 1, "중간고사": midterm, "기말고사": final, "나이": 20 + index % 5, "학점": grade})
    return pd.DataFrame(rows)


@pytest.fixture
def offline_hub(monkeypatch) -> None:
    """The hub refuses at once, as offline: the in-process form of HF_ENDPOINT=http://127.0.0.1:9
    (the discard port) and HF_HUB_OFFLINE=1, which huggingface_hub reads only at import."""
    monkeypatch.setattr(huggingface_hub.constants, "ENDPOINT", "http://127.0.0.1:9")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)


def shared_data_file(*parts: str) -> Path:
    """A file of ../shared/data (README, "Run the tests"): the test skips where that folder is
    missing, and fails where the folder is there without the file."""
    if not SHARED_DATA.is_dir():
        pytest.skip("needs ../shared/data beside the repository")
    path = SHARED_DATA.joinpath(*parts)
    assert path.is_file(), f"{path} is missing from ../shared/data"
    return path


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    """The run that evaluate, predict, export, serve and the bad-input matrix share, in the folder a
    user's run gets, outputs/<date>/<time>/ where the command ran: read it, or copy it before
    changing anything in it."""
    workdir = tmp_path_factory.mktemp("tiny")
    result = run_in_process("+experiment=tiny", cwd=workdir)
    assert result.returncode == 0, result.stderr[-3000:]
    [hydra_dir] = workdir.glob("outputs/*/*/.hydra")
    return hydra_dir.parent, result


# the shipped multi-label comments: 360 training rows, 40 val, the 471 shipped test rows, with
# thresholds tuned on val; a step checkpoint every 5 of the 12 steps, for the resume test
MULTILABEL_SETTINGS = ("data=hate_multilabel", "data.max_rows=400", "data.batch_size=32", "tokenizer.vocab_size=2000",
                       "trainer.max_epochs=1", "trainer.deterministic=true", "model.thresholds=tune",
                       "callbacks.checkpoint.every_n_train_steps=5")


@pytest.fixture(scope="session")
def multilabel_run(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    """A multi-label run that the multi-label tests and the page test share: read it, or copy it."""
    workdir = tmp_path_factory.mktemp("multilabel_run")
    result = run_in_process(*MULTILABEL_SETTINGS, "hydra.run.dir=sets", cwd=workdir)
    assert result.returncode == 0, result.stderr[-3000:]
    return workdir / "sets", result
