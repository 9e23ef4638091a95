"""neka.check: each planted problem is found; the command writes check/report.json and prints one
finding per line; what would stop training stops it with one line; neka.train warns at start."""

import json
from functools import partial

import numpy as np
import pandas as pd
import pytest

from neka.check.columns import check_columns
from neka.check.duplicates import check_conflicts, check_duplicates
from neka.check.labels import check_labels
from neka.check.lengths import check_near_empty, check_tokens, length_needed, token_lengths
from neka.check.startup import warn_about_data
from neka.check.texts import split_rows
from neka.data.datamodule import NekaDataModule
from neka.data.transform import encode_table
from neka.data.truncation import Truncation
from neka.tokenization.loading import load_tokenizer

from conftest import assert_user_error, run_in_process

FILES = {"train": "data.path", "val": "data.path", "test": "data.test_path"}
WORDS = ["영화", "최고", "별로", "배우", "연기", "감동", "지루", "결말", "음악", "시간"]


def reviews(count: int, start: int = 0, words: int = 3) -> pd.DataFrame:
    """Distinct texts, labels alternating."""
    texts = [" ".join(WORDS[(i + k) % len(WORDS)] for k in range(words)) + f" {i}" for i in range(start, start + count)]
    return pd.DataFrame({"document": texts, "label": [str(i % 2) for i in range(start, start + count)]})


def rows_of(frames: dict[str, pd.DataFrame], **options) -> dict[str, pd.DataFrame]:
    return split_rows(frames, ["document"], "label", is_regression=False, **options)


def test_a_leaked_test_row_and_a_spelling_variant_of_it_are_found():
    train, val, test = reviews(20), reviews(5, 100), reviews(5, 200)
    test.loc[test.index[0], "document"] = train.document[3]  # the same text
    test.loc[test.index[1], "document"] = train.document[4].upper() + "!!"  # differs by punctuation only
    section, findings = check_duplicates(rows_of({"train": train, "val": val, "test": test}), FILES)
    assert section["leakage"]["test"]["text"]["rows"] == 1 and section["leakage"]["test"]["normalised"]["rows"] == 2
    assert section["leakage"]["test"]["text"]["examples"][0]["row"] == 1  # counting data rows from 1
    assert section["leakage"]["val"]["normalised"]["rows"] == 0
    [leak] = findings
    assert leak.check == "leakage" and leak.count == 2 and "data.test_path" in leak.action


def test_repeats_within_training_and_a_conflicting_duplicate():
    train = reviews(20)
    train.loc[5] = [train.document[2], "1"]  # the text of row 2 (label 0) again, labelled 1
    train.loc[6] = [train.document[3] + " ...", train.label[3]]  # row 3 with trailing dots
    frames = {"train": train, "val": reviews(4, 100), "test": reviews(4, 200)}
    duplicates, _ = check_duplicates(rows_of(frames), FILES)
    assert duplicates["train"]["text"]["rows"] == 1 and duplicates["train"]["normalised"]["rows"] == 2
    section, [finding] = check_conflicts(rows_of(frames))
    assert section["texts"] == 1 and section["rows"] == 2 and finding.check == "conflicts"
    assert section["examples"][0]["labels"] == {"train": ["0", "1"]}


def test_labels_that_differ_only_by_case_or_spacing():
    frame = reviews(9)
    frame["label"] = ["Positive", "positive ", "neg ative", "negative", "Positive", "neutral", "negative", "x", "x"]
    section, findings = check_labels(rows_of({"train": frame, "val": frame, "test": frame}), False, "label")
    assert {frozenset(group) for group in section["variants"]} == {frozenset(["neg ative", "negative"]),
                                                                   frozenset(["Positive", "positive"])}
    assert len(findings) == 2 and all("data.label_column" in finding.action for finding in findings)
    assert section["classes"]["x"]["train"] == {"rows": 2, "share": round(2 / 9, 4)}


def test_near_empty_texts():
    frame = reviews(6)
    frame.loc[1, "document"], frame.loc[4, "document"] = "...!!", "굿 ~~"
    section, [finding] = check_near_empty(rows_of({"train": frame, "val": reviews(2), "test": reviews(2)}), FILES)
    assert section["near_empty"]["train"]["rows"] == 2 and finding.count == 2


def test_id_constant_and_leaking_columns_of_a_table(grades_table):
    # 학점 is binned from the total 총점; every row has the same 학교
    table = grades_table.assign(총점=grades_table.중간고사 + grades_table.기말고사, 학교="A")
    frames = {"train": table.iloc[:40], "val": table.iloc[40:50], "test": table.iloc[50:]}
    labels = {split: frame.학점 for split, frame in frames.items()}
    inputs = ["id", "중간고사", "기말고사", "학교", "총점"]
    section, findings = check_columns(frames, labels, inputs, ["나이"], is_regression=False)
    assert section["constant"] == ["학교"] and section["unique"] == ["id"]
    assert section["predictors"]["perfect"] == ["총점"]
    assert [finding.action.split(" ")[0] for finding in findings] == [
        "data.drop_columns=[나이,학교]", "data.drop_columns=[나이,id]", "data.drop_columns=[나이,총점]"]
    frames = {split: frame.drop(columns="총점") for split, frame in frames.items()}
    assert check_columns(frames, labels, inputs[:-1], [], is_regression=False)[0]["predictors"]["perfect"] == []


def test_a_max_len_that_cuts_most_rows(word_tokenizer):
    frame = pd.DataFrame({"document": ["영화 최고 영화 최고 영화 최고 영화 최고"] * 8 + ["영화"] * 2,
                          "label": ["1"] * 10})
    lengths = token_lengths(word_tokenizer, frame, ["document"])
    assert lengths.tolist() == [10] * 8 + [3] * 2  # [CLS] 8 words [SEP]
    assert length_needed(lengths, 0.95) == 10 and length_needed(np.arange(1, 101), 0.95) == 95
    encoded = encode_table(word_tokenizer, [frame.document.tolist()], np.zeros(10), 8, False)
    section, findings = check_tokens({"train": lengths}, {"train": frame.document}, {"train": encoded},
                                     word_tokenizer, 8, 0.1)
    assert section["cut"]["train"] == {"rows": 8, "share": 0.8}
    assert findings[0].count == 8
    assert findings[0].action.startswith("data.max_len=10 keeps 99 % of them whole, or data.truncation=windows")


def test_table_columns_are_checked_end_to_end(tmp_path, grades_table):
    grades_table.assign(총점=grades_table.중간고사 + grades_table.기말고사).to_csv(tmp_path / "grades.csv", index=False)
    result = run_in_process("data=table", "data.path=grades.csv", "data.label_column=학점", "data.drop_columns=[나이]",
                            "data.val_size=0.2", "data.test_size=0.2", "hydra.run.dir=run", cwd=tmp_path,
                            module="neka.check")
    assert result.returncode == 0, result.stderr[-3000:]
    warnings = [line for line in result.stdout.splitlines() if line.startswith("warning: columns:")]
    assert warnings == [
        "warning: columns: columns ['id'] are unique per row, like ids -> data.drop_columns=[나이,id] unless they "
        "carry meaning",
        "warning: columns: columns ['총점'] alone predict the label (held-out accuracy 0.99 or more): a leak? -> "
        "data.drop_columns=[나이,총점] if they are known only with the label"]


def write_reviews(folder, leaked_text: bool = True) -> None:
    train = reviews(80, words=8)  # 11 tokens or more: cut at data.max_len=8
    train.loc[10] = [train.document[2], "1"]  # a conflicting duplicate
    test = reviews(10, 500, words=8)
    if leaked_text:
        test.loc[0] = [train.document[7], train.label[7]]
    train.to_csv(folder / "train.csv", index=False)
    test.to_csv(folder / "test.csv", index=False)


def test_check_command_writes_the_report_and_prints_one_finding_per_line(tmp_path):
    write_reviews(tmp_path)
    arguments = ("data.path=train.csv", "data.test_path=test.csv", "data.text_columns=document",
                 "data.max_len=8", "tokenizer.min_frequency=1", "hydra.run.dir=run")
    result = run_in_process(*arguments, cwd=tmp_path, module="neka.check")
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads((tmp_path / "run" / "check" / "report.json").read_text(encoding="utf-8"))
    assert {"data", "splits", "labels", "duplicates", "conflicts", "texts", "tokens", "columns",
            "findings"} <= set(report)
    assert report["splits"]["test"]["rows"] == 10 and report["columns"] is None
    assert report["duplicates"]["leakage"]["test"]["text"]["rows"] == 1
    lines = result.stdout.splitlines()
    assert lines[1].startswith("rows: train ") and lines[-1] == f"report: {tmp_path / 'run' / 'check' / 'report.json'}"
    assert [line.split(":")[1].strip() for line in lines if line.startswith("warning:")] == [
        "duplicates", "leakage", "conflicts", "tokens"]
    again = run_in_process(*arguments[:-1], "hydra.run.dir=again", cwd=tmp_path, module="neka.check")
    assert "reused the encoding cached" in again.stderr  # split_frames finds the same rows from the cache
    assert json.loads((tmp_path / "again" / "check" / "report.json").read_text(encoding="utf-8")) == report


def test_what_would_stop_training_stops_the_check_in_one_line(tmp_path):
    write_reviews(tmp_path)
    frame = pd.read_csv(tmp_path / "train.csv")
    frame.loc[3, "document"] = " "
    frame.to_csv(tmp_path / "train.csv", index=False)
    result = run_in_process("data.path=train.csv", "data.test_path=test.csv", "data.text_columns=document",
                            "hydra.run.dir=run", cwd=tmp_path, module="neka.check")
    assert_user_error(result, "data.drop_missing", "row 4")
    assert not (tmp_path / "run").exists()
    no_model = run_in_process("tokenizer=hf", "hydra.run.dir=run", cwd=tmp_path, module="neka.check")
    assert_user_error(no_model, "tokenizer.pretrained: tokenizer=hf takes model.pretrained in training")


def test_training_warns_about_leakage_and_conflicts_at_start(tmp_path):
    write_reviews(tmp_path)
    settings = {"kind": "wordpiece", "min_frequency": 1}
    data = NekaDataModule(str(tmp_path / "train.csv"), "label", partial(load_tokenizer, **settings),
                          text_columns=["document"], test_path=str(tmp_path / "test.csv"), max_len=8)
    data.setup("fit")
    lines = warn_about_data(data)
    assert any(line.startswith("1 of 10 test rows also appear in training") for line in lines)
    assert any("texts appear with different labels" in line for line in lines)
    assert any("of training rows are cut at data.max_len=8" in line for line in lines)


def test_training_logs_the_leakage_it_starts_with(tiny_run):
    """The shipped sample repeats some reviews in its test file (11 of them among tiny's 600 rows)."""
    run_dir, _ = tiny_run
    log = (run_dir / "train.log").read_text(encoding="utf-8")
    assert "[WARNING] - 11 of 2,000 test rows also appear in training" in log and "python -m neka.check" in log


def test_label_issues_true_cross_validates_and_ranks_the_doubtful_rows(tmp_path):
    result = run_in_process("data.max_rows=300", "data.test_path=null", "tokenizer.vocab_size=1000",
                            "label_issues=true", "hydra.run.dir=run", cwd=tmp_path, module="neka.check")
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads((tmp_path / "run" / "check" / "report.json").read_text())
    ranked = pd.read_csv(tmp_path / "run" / "label_issues" / "label_issues.csv")
    assert report["label_issues"]["rows"] == len(ranked) and report["label_issues"]["folds"] == 5
    assert len(list((tmp_path / "run" / "label_issues" / "cv").glob("*/metrics.json"))) == 5
    assert ("label_issues" in result.stdout) == (len(ranked) > 0)


@pytest.mark.parametrize("max_len, truncation", [(10, "head"), (12, "head"), (10, "windows")])
def test_lengths_from_the_encoded_rows_are_the_tokenized_lengths(word_tokenizer, max_len, truncation):
    """The encoding records each row's length before any cut: the lengths tokenizing again gives."""
    texts = [" ".join(["영화", "최고"] * (n % 7)) for n in range(40)]
    frame = pd.DataFrame({"document": texts, "label": ["1"] * 40}, index=range(100, 140))
    encoded = encode_table(word_tokenizer, [texts], np.zeros(40), max_len, False, Truncation(truncation))
    full = token_lengths(word_tokenizer, frame, ["document"])
    assert (full > max_len).any() and (full == max_len).any()  # rows cut, and rows that fit exactly
    np.testing.assert_array_equal(token_lengths(word_tokenizer, frame, ["document"], encoded), full)
