import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from transformers import BertTokenizer

from neka.data.batching import Collate, EncodedDataset
from neka.data.transform import encode_rows
from neka.tokenization.huggingface import HFTokenizer

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"

# NekaClassifier's optimizer and scheduler settings, and a small encoder, for tests that build one directly
OPTIMIZER = {"lr": 5e-5, "weight_decay": 0.01, "eps": 1e-8}
SCHEDULER = {"name": "linear", "warmup_ratio": 0.1}
TINY = {"num_hidden_layers": 1, "hidden_size": 32, "num_attention_heads": 2, "intermediate_size": 64}


def run_neka(*args: str, cwd: Path, module: str = "neka.train", env: dict[str, str] | None = None,
             timeout: int = 300) -> subprocess.CompletedProcess:
    """The real command, as a user types it."""
    return subprocess.run([sys.executable, "-m", module, *args], cwd=cwd, capture_output=True, text=True,
                          env=env, timeout=timeout)


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


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    workdir = tmp_path_factory.mktemp("tiny")
    result = run_neka("+experiment=tiny", f"hydra.run.dir={workdir / 'run'}", cwd=workdir)
    assert result.returncode == 0, result.stderr[-3000:]
    return workdir / "run", result
