"""What a finished run leaves for people and programs: labels.json, vocab/, metrics.json.

Each file is written under a temporary name and renamed, so a crash leaves either no file
or a complete one, never half of one.
"""

import json
import os
import tempfile
from pathlib import Path

from neka.tokenizers import NekaTokenizer


def write_json_atomic(path: Path, payload: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=path.parent, prefix=f".{path.name}.",
                                     delete=False) as handle:
        json.dump(payload, handle, ensure_ascii=False, indent=2)
        handle.write("\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.chmod(handle.name, 0o666 & ~_umask())  # mkstemp makes files private; these are for reading
    os.replace(handle.name, path)


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def save_labels(run_dir: Path, label_map: dict[str, int]) -> None:
    write_json_atomic(run_dir / "labels.json", label_map)


def save_vocabulary(run_dir: Path, tokenizer: NekaTokenizer) -> Path:
    """Written to a temporary folder and renamed, like the JSON files."""
    final = run_dir / "vocab"
    staging = Path(tempfile.mkdtemp(dir=run_dir, prefix=".vocab."))
    tokenizer.save(staging)
    os.chmod(staging, 0o777 & ~_umask())
    os.replace(staging, final)
    return final


def flat_metric_names(metrics: dict[str, float]) -> dict[str, float]:
    """`test/acc` -> `test_acc`: shells and spreadsheets read these more easily."""
    return {name.replace("/", "_"): float(value) for name, value in sorted(metrics.items())}


def save_metrics(run_dir: Path, metrics: dict[str, float]) -> None:
    """Written last: a run folder with metrics.json is a finished run."""
    write_json_atomic(run_dir / "metrics.json", flat_metric_names(metrics))
