import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from transformers import BertTokenizer

from neka.tokenizers import NekaTokenizer

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def run_neka(*args: str, cwd: Path, module: str = "neka.train", env: dict[str, str] | None = None,
             timeout: int = 300) -> subprocess.CompletedProcess:
    """The real command, as a user types it."""
    return subprocess.run([sys.executable, "-m", module, *args], cwd=cwd, capture_output=True, text=True,
                          env=env, timeout=timeout)


@pytest.fixture
def word_tokenizer() -> NekaTokenizer:
    """A BERT tokenizer over a hand-written vocabulary, so tests know every id."""
    pieces = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "1", "87", "63", "2", "91", "70", "영화", "최고", "별로",
              "##다", "좋", "싫", "a", "b", "c", "d", "e"]
    vocab = {piece: index for index, piece in enumerate(pieces)}
    return NekaTokenizer(BertTokenizer(vocab=vocab, do_lower_case=False), "words")


@pytest.fixture
def grades_table() -> pd.DataFrame:
    """The seed's tabular example: id, midterm, final, age -> letter grade (age is useless)."""
    rows = []
    for index in range(60):
        midterm = 50 + (index * 7) % 50
        final = 40 + (index * 13) % 60
        total = midterm + final
        grade = "A" if total >= 150 else "B" if total >= 120 else "C"
        rows.append({"id": index + 1, "중간고사": midterm, "기말고사": final, "나이": 20 + index % 5, "학점": grade})
    return pd.DataFrame(rows)
