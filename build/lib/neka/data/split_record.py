"""Which rows of which files formed each split of a run, so that evaluate scores exactly the
run's test rows, from any folder, and notices a file that changed since.

`splits.json` names every table file read (absolute path, size in bytes, sha256) and the file
each split came from; `splits.npz` holds, per split, its rows' positions among that file's data
rows (0 is the first row after the header), after `data.max_rows` sampling, splitting and
`data.drop_missing`, in the order the split was encoded. On a 200,000-row table (19 MB) the
positions take 0.6 MB compressed (1.5 MB as JSON lists), and writing the record, the sha256
included, 0.2 s. Written by train (global rank 0 only, as run_files.py), read by evaluate.
"""

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pytorch_lightning.utilities import rank_zero_only

from neka.atomic import atomic_path
from neka.errors import NekaError
from neka.runs.files import write_json_atomic

RECORD, POSITIONS = "splits.json", "splits.npz"


def describe_file(path: str | Path) -> dict:
    """A file as a run records it: absolute, so that it is found from any folder, and hashed."""
    path, digest, size = Path(path).resolve(), hashlib.sha256(), 0
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
            size += len(chunk)
    return {"path": str(path), "bytes": size, "sha256": digest.hexdigest()}


@rank_zero_only
def save_split_record(run_dir: Path, files: dict[str, str], split_files: dict[str, str],
                      positions: dict[str, np.ndarray]) -> None:
    """`files`: config key -> path of each table read; `split_files`: split -> the key of its file.
    The positions go first: splits.json, written last, marks a complete record."""
    with atomic_path(run_dir / POSITIONS) as temporary, open(temporary, "wb") as handle:
        np.savez_compressed(handle, **positions)
    write_json_atomic(run_dir / RECORD, {
        "files": {key: describe_file(path) for key, path in files.items()},
        "splits": {split: {"file": key, "rows": len(positions[split])} for split, key in split_files.items()},
        "positions": f"{POSITIONS}: per split, its rows' positions among the file's data rows (0: first after the "
                     f"header)"})


@dataclass
class RecordedSplit:
    key: str  # the training config key that named the file: data.path, data.val_path or data.test_path
    path: Path
    sha256: str
    positions: np.ndarray


def load_recorded_split(run_dir: Path, split: str) -> RecordedSplit | None:
    """None for a run trained before neka recorded its splits."""
    if not (run_dir / RECORD).is_file():
        return None
    record = json.loads((run_dir / RECORD).read_text(encoding="utf-8"))
    key = record["splits"][split]["file"]
    with np.load(run_dir / POSITIONS) as arrays:
        positions = arrays[split]
    return RecordedSplit(key, Path(record["files"][key]["path"]), record["files"][key]["sha256"], positions)


def check_unchanged(recorded: RecordedSplit, split: str) -> None:
    """The positions name rows of the file as it was: in an edited, shuffled or re-exported file
    they would name other rows, training rows among them."""
    if not recorded.path.is_file():
        raise NekaError(f"run_dir: the run's {split} rows came from {recorded.path} ({recorded.key}), which no "
                        f"longer exists; to evaluate another labelled file, pass data.path=FILE")
    sha256 = describe_file(recorded.path)["sha256"]
    if sha256 != recorded.sha256:
        raise NekaError(f"run_dir: the run's {split} rows came from {recorded.path} ({recorded.key}), which changed "
                        f"since training (sha256 {recorded.sha256[:12]} then, {sha256[:12]} now), so they cannot be "
                        f"found in it; to score the whole file as a new labelled file, pass "
                        f"data.path={recorded.path}")
