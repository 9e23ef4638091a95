"""The bad-input matrix: each user mistake, through the command's own entry point, ends in exit 2
and one line on stderr that names the file / column / value and what to change, with no
traceback, leaves what earlier runs wrote exactly as it was, and leaves no run folder of its own.
Every case runs in this process; one case of each command also runs as a real process.

| input                                   | command  | the line says                                         |
|-----------------------------------------|----------|-------------------------------------------------------|
| missing file                            | train    | data.path: no file 'absent.csv'; give the path of ... |
| a folder as data.path                   | train    | data.path: '...' is a folder, not a table file        |
| empty file                              | train    | data.path: empty.csv is empty; it needs a header ...  |
| header only                             | train    | data.path: header.csv has a header but no rows        |
| unknown extension                       | train    | data.path: cannot read 'table.xml': unknown extension |
| text column missing                     | train    | data.text_columns: no column 'document' ... did you mean 'doc'? |
| label column missing                    | train    | data.label_column: no column 'label' ... did you mean 'labels'? |
| empty label cells                       | train    | data.drop_missing: ... (row 2 column 'label', ...)    |
| empty text cells                        | train    | data.drop_missing: ... column 'document' ...          |
| a single class                          | train    | data.label_column: ... one class only ...             |
| cp949 file read as UTF-8                | train    | data.encoding: ... set data.encoding=cp949            |
| malformed CSV row                       | train    | data.path: broken.csv is not a well-formed CSV table  |
| xlsx that is not a zip                  | train    | data.path: fake.xlsx is not a readable xlsx file      |
| max_len below 8                         | train    | data.max_len: 4 is too short ...                      |
| max_len above the encoder's positions   | train    | data.max_len: 600 is longer than the encoder's 512 ... |
| batch_size 0                            | train    | data.batch_size: must be at least 1, got 0            |
| val_size + test_size >= 1, own table   | train    | data.val_size + data.test_size must be below 1 ...    |
| text labels with data.task=regression   | train    | data.task=regression needs numbers ...                |
| unknown model name, no network          | train    | model.pretrained: cannot download 'no-such/model' ... |
| unknown tokenizer name, no network      | train    | tokenizer.pretrained: cannot download 'no-such/tok' ...|
| resuming a finished run                 | train    | resume: ... already finished ...                      |
| a truncated checkpoint                  | evaluate | ckpt: ... is not a readable checkpoint ...            |
| a file that is not a checkpoint         | evaluate | ckpt: ... is not a readable checkpoint ...            |
| a checkpoint needing full unpickling    | evaluate | ckpt: ... holds Python objects ...; trust_checkpoint=true |
| predict input missing a training column | predict  | input: renamed.csv lacks the training columns [...]   |
| predict input file missing              | predict  | input: no file ...                                    |
| export into a non-empty folder          | export   | out: ... exists and is not empty; ... overwrite=true  |
"""

import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import pandas as pd
import pytest
import torch

from conftest import assert_user_error, run_in_process, run_neka

REVIEWS = pd.DataFrame({"document": ["좋은 영화", "별로다", "최고", "지루해"] * 5, "label": [1, 0, 1, 0] * 5})


def table(frame: pd.DataFrame, name: str, *overrides: str, **options):
    """A case's input: the table written to `name` in the case's folder and trained on, as a user's
    own table is (its test rows from itself)."""
    def make(folder: Path, run: Path) -> tuple[str, list[str]]:
        frame.to_csv(folder / name, index=False, **options)
        return "neka.train", [f"data.path={name}", *overrides]
    return make


def text(name: str, content: str):
    def make(folder: Path, run: Path) -> tuple[str, list[str]]:
        (folder / name).write_text(content, encoding="utf-8")
        return "neka.train", [f"data.path={name}"]
    return make


def train(*args: str):
    return lambda folder, run: ("neka.train", list(args))


def truncated_checkpoint(folder: Path, run: Path) -> tuple[str, list[str]]:
    best = next((run / "checkpoints").glob("best-*.ckpt")).read_bytes()
    (folder / "truncated.ckpt").write_bytes(best[: len(best) // 2])
    return "neka.evaluate", [f"run_dir={run}", f"ckpt={folder / 'truncated.ckpt'}"]


def not_a_checkpoint(folder: Path, run: Path) -> tuple[str, list[str]]:
    (folder / "notes.ckpt").write_text("not a checkpoint", encoding="utf-8")
    return "neka.evaluate", [f"run_dir={run}", f"ckpt={folder / 'notes.ckpt'}"]


def pickled_checkpoint(folder: Path, run: Path) -> tuple[str, list[str]]:
    """A real checkpoint plus one object that only full unpickling can rebuild."""
    state = torch.load(next((run / "checkpoints").glob("best-*.ckpt")), weights_only=True)
    torch.save({**state, "note": PurePosixPath("made elsewhere")}, folder / "pickled.ckpt")
    return "neka.evaluate", [f"run_dir={run}", f"ckpt={folder / 'pickled.ckpt'}"]


def predict_missing_column(folder: Path, run: Path) -> tuple[str, list[str]]:
    REVIEWS.rename(columns={"document": "text"}).to_csv(folder / "renamed.csv", index=False)
    return "neka.predict", [f"run_dir={run}", "input=renamed.csv"]


def export_into_non_empty(folder: Path, run: Path) -> tuple[str, list[str]]:
    (folder / "model").mkdir()
    (folder / "model" / "keep.txt").write_text("mine", encoding="utf-8")
    return "neka.export", [f"run_dir={run}", "out=model"]


CASES = {
    "missing file": (train("data.path=absent.csv"), ["data.path", "'absent.csv'"]),
    "folder as file": (lambda folder, run: ("neka.train", [f"data.path={folder}"]), ["data.path", "is a folder"]),
    "empty file": (text("empty.csv", ""), ["data.path", "empty.csv is empty"]),
    "header only": (text("header.csv", "document,label\n"), ["header.csv has a header but no rows"]),
    "unknown extension": (text("table.xml", "<a/>"), ["data.path", "unknown extension '.xml'"]),
    "text column missing": (table(REVIEWS.rename(columns={"document": "doc"}), "renamed.csv"),
                            ["data.text_columns", "'document'", "renamed.csv", "did you mean 'doc'?"]),
    "label column missing": (table(REVIEWS.rename(columns={"label": "labels"}), "renamed.csv"),
                             ["data.label_column", "'label'", "did you mean 'labels'?"]),
    "empty label cells": (table(REVIEWS.assign(label=[1, None, 0, 1] * 5), "holes.csv"),
                          ["data.drop_missing", "holes.csv", "row 2 column 'label'"]),
    "empty text cells": (table(REVIEWS.assign(document=["좋은 영화", "", "최고", "지루해"] * 5), "holes.csv"),
                         ["data.drop_missing", "row 2 column 'document'"]),
    "single class": (table(REVIEWS.assign(label=1), "one.csv"), ["one class only", "one.csv"]),
    "cp949 as utf-8": (table(REVIEWS, "korean.csv", encoding="cp949"), ["korean.csv", "data.encoding=cp949"]),
    "malformed csv row": (text("broken.csv", "document,label\n좋다,1\n별로,0,extra\n"),
                          ["data.path", "broken.csv is not a well-formed CSV"]),
    "xlsx not a zip": (text("fake.xlsx", "not a zip"), ["data.path", "fake.xlsx is not a readable xlsx"]),
    "max_len below 8": (train("data.max_len=4"), ["data.max_len", "at least 8"]),
    "max_len above positions": (train("data.max_rows=200", "data.max_len=600"),
                                ["data.max_len", "600", "512 positions"]),
    "batch_size 0": (train("data.batch_size=0"), ["data.batch_size", "at least 1"]),
    "val + test >= 1": (table(REVIEWS, "reviews.csv", "data.val_size=0.5", "data.test_size=0.5"),
                        ["data.val_size + data.test_size", "below 1"]),
    "text labels as regression": (table(REVIEWS.assign(label=["좋음", "나쁨"] * 10), "words.csv",
                                        "data.task=regression"), ["data.task", "words.csv"]),
    "unknown model offline": (train("model=bert", "model.pretrained=no-such/model"), ["no-such/model", "pretrained"]),
    "unknown tokenizer offline": (train("tokenizer=hf", "tokenizer.pretrained=no-such/tok"),
                                  ["tokenizer.pretrained", "no-such/tok"]),
    "resume a finished run": (lambda folder, run: ("neka.train", ["+experiment=tiny", f"resume={run}"]),
                              ["resume", "already finished"]),
    "truncated checkpoint": (truncated_checkpoint, ["truncated.ckpt is not a readable checkpoint", "ckpt="]),
    "not a checkpoint": (not_a_checkpoint, ["notes.ckpt is not a readable checkpoint"]),
    "checkpoint needing unpickling": (pickled_checkpoint, ["pickled.ckpt holds Python objects",
                                                           "trust_checkpoint=true"]),
    "predict input missing a column": (predict_missing_column, ["renamed.csv lacks the training columns"]),
    "predict input missing": (lambda folder, run: ("neka.predict", [f"run_dir={run}", "input=absent.csv"]),
                              ["input", "absent.csv"]),
    "export into a non-empty folder": (export_into_non_empty, ["out: model", "overwrite=true"]),
}


# one case of each command as a real process: the exit status and stderr of the interpreter itself
PROCESS_CASES = ["text column missing", "truncated checkpoint", "predict input missing a column",
                 "export into a non-empty folder"]


def snapshot(folder: Path) -> dict[Path, bytes]:
    return {path: path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


@dataclass
class Outcome:
    result: subprocess.CompletedProcess
    folder: Path
    earlier_run: Path
    before: dict[Path, bytes]


def run_case(case: str, tiny_run, tmp_path_factory, runner) -> Outcome:
    folder = tmp_path_factory.mktemp("case")
    earlier_run = folder / "earlier-run"
    shutil.copytree(tiny_run[0], earlier_run)
    before = snapshot(earlier_run)
    module, args = CASES[case][0](folder, earlier_run)
    return Outcome(runner(*args, cwd=folder, module=module), folder, earlier_run, before)


def assert_one_line_and_nothing_changed(case: str, outcome: Outcome) -> None:
    assert_user_error(outcome.result, *CASES[case][1])
    stderr = outcome.result.stderr
    assert [line for line in stderr.splitlines() if line.strip()] == [stderr.strip()], stderr
    after = snapshot(outcome.earlier_run)
    assert {path: after.get(path) for path in outcome.before} == outcome.before  # evaluate may add eval/evaluate.log
    assert not any(outcome.folder.glob("outputs/**/metrics.json"))
    run_folders = [p for p in outcome.folder.glob("outputs/*/*") if p.parent.name != ".cache"]
    assert not run_folders  # a run stopped by a mistake before writing anything leaves no folder


@pytest.mark.parametrize("case", CASES)
def test_bad_input_is_one_line_exit_2_and_changes_nothing(case, tiny_run, tmp_path_factory, offline_hub):
    assert_one_line_and_nothing_changed(case, run_case(case, tiny_run, tmp_path_factory, run_in_process))


@pytest.fixture(scope="module")
def process_outcomes(tiny_run, tmp_path_factory) -> dict[str, Outcome]:
    """Two at a time: each is a fresh process that spends most of its seconds importing torch and
    Lightning on one core, and the machine has two."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = pool.map(lambda case: run_case(case, tiny_run, tmp_path_factory, run_neka), PROCESS_CASES)
        return dict(zip(PROCESS_CASES, outcomes))


@pytest.mark.parametrize("case", PROCESS_CASES)
def test_one_case_of_each_command_as_a_process(case, process_outcomes):
    assert_one_line_and_nothing_changed(case, process_outcomes[case])


def test_rows_of_100000_characters_are_truncated_not_fatal(tmp_path):
    long_review = ("정말 지루하고 긴 영화였다 " * 8000)[:100_000]
    frame = pd.concat([REVIEWS, pd.DataFrame({"document": [long_review] * 4, "label": [0, 1, 0, 1]})])
    frame.to_csv(tmp_path / "long.csv", index=False)
    result = run_in_process("data.path=long.csv", "data.test_path=null", "trainer.max_epochs=1", "hydra.run.dir=run",
                            cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert (tmp_path / "run" / "metrics.json").is_file()
