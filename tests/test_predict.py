"""predict on a trained run: one answer per row in its place, the input never replaced, no
earlier output replaced unless asked, and the output laid out like the input."""

import codecs
import re
from pathlib import Path

import pandas as pd
import pytest
from hydra import compose, initialize_config_dir

from neka.cli.configs import config_dir
from neka.inference.scoring import answer_rows, encode_frame, predict_outputs_without_trainer
from neka.predict import main
from neka.runs.trained import open_run

from conftest import assert_user_error, run_in_process

CONF = config_dir()
ROWS = "id,document\n1,좋다\n2,별로\n"


def predict(run_dir: Path, *overrides: str) -> None:
    """`python -m neka.predict` in this process: the real config, composed, through main."""
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        cfg = compose("predict", overrides=[f"run_dir={run_dir}", *overrides])
    main(cfg)


def refusal(capsys, run_dir: Path, *overrides: str) -> str:
    """The one line a refused predict prints; it must exit with code 2."""
    with pytest.raises(SystemExit) as exit_info:
        predict(run_dir, *overrides)
    assert exit_info.value.code == 2
    return capsys.readouterr().err.strip()


def served_probability(run_dir: Path, text: str) -> float:
    """P(label "1") for `text` as the server scores a request's text (neka/serve/app.py)."""
    run = open_run(run_dir)
    rows = [[text]]
    encoded = encode_frame(run, pd.DataFrame(rows, columns=run.input_columns), "request")
    return answer_rows(run, rows, predict_outputs_without_trainer(run, encoded, 64))[0]["probabilities"]["1"]


@pytest.mark.parametrize("name, content", [
    ("cells.csv", "id,document\n1,좋다\n2,\n3,별로\n4,\n"),
    ("cells.jsonl", '{"id": 1, "document": "좋다"}\n{"id": 2, "document": ""}\n{"id": 3, "document": "별로"}\n'
                    '{"id": 4, "document": null}\n'),
], ids=["csv", "jsonl"])
def test_an_empty_text_cell_is_scored_as_the_empty_text(tiny_run, tmp_path, name, content):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    predict(tiny_run[0], f"input={path}")
    predicted = pd.read_csv(tmp_path / "cells.predictions.csv") if name.endswith(".csv") else \
        pd.read_json(tmp_path / "cells.predictions.jsonl", lines=True)
    assert predicted["id"].tolist() == [1, 2, 3, 4]
    assert predicted["prob_1"][[1, 3]].tolist() == pytest.approx([served_probability(tiny_run[0], "")] * 2, abs=1e-5)


@pytest.mark.parametrize("output, message", [
    ("nodir/out.csv", "output: folder 'nodir' does not exist"),
    ("out.xml", "unknown extension '.xml'"),
    ("sub/../rows.csv", "is the input file"),
    ("taken.csv", "taken.csv exists; choose another output or set overwrite=true"),
])
def test_the_output_is_checked_before_the_run_is_opened(tmp_path, capsys, monkeypatch, output, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sub").mkdir()
    (tmp_path / "rows.csv").write_text(ROWS, encoding="utf-8")
    (tmp_path / "taken.csv").write_text("earlier predictions\n", encoding="utf-8")
    line = refusal(capsys, tmp_path / "not-a-run", f"input={tmp_path / 'rows.csv'}", f"output={output}")
    assert message in line and line.startswith("neka: error: output:")


def test_an_existing_output_is_replaced_only_with_overwrite(tiny_run, tmp_path, capsys):
    (tmp_path / "rows.csv").write_text(ROWS, encoding="utf-8")
    earlier = tmp_path / "rows.predictions.csv"
    earlier.write_text("earlier predictions\n", encoding="utf-8")
    assert "overwrite=true" in refusal(capsys, tiny_run[0], f"input={tmp_path / 'rows.csv'}")
    assert earlier.read_text(encoding="utf-8") == "earlier predictions\n"
    predict(tiny_run[0], f"input={tmp_path / 'rows.csv'}", "overwrite=true")
    assert pd.read_csv(earlier)["document"].tolist() == ["좋다", "별로"]


def test_output_equal_to_the_input_is_refused_and_the_input_kept(tiny_run, tmp_path):
    (tmp_path / "rows.csv").write_text(ROWS, encoding="utf-8")
    result = run_in_process(f"run_dir={tiny_run[0]}", "input=rows.csv", f"output={tmp_path / 'rows.csv'}",
                            "overwrite=true", cwd=tmp_path, module="neka.predict")
    assert_user_error(result, "is the input file", "never replaces its input")
    assert result.stderr.strip().count("\n") == 0
    assert (tmp_path / "rows.csv").read_text(encoding="utf-8") == ROWS


@pytest.mark.parametrize("name, raw, encoding, newline, sep", [
    ("rows.csv", codecs.BOM_UTF8 + ROWS.replace("\n", "\r\n").encode(), "utf-8-sig", "\r\n", ","),
    ("rows.txt", ROWS.encode(), "utf-8", "\n", ","),
    ("rows.txt", ROWS.replace(",", "\t").encode(), "utf-8", "\n", "\t"),
], ids=["csv-bom-crlf", "txt-comma", "txt-tab"])
def test_a_delimited_output_keeps_the_inputs_bom_line_endings_and_separator(tiny_run, tmp_path, name, raw, encoding,
                                                                            newline, sep):
    path = tmp_path / name
    path.write_bytes(raw)
    predict(tiny_run[0], f"input={path}")
    written = path.with_name(f"rows.predictions{path.suffix}").read_bytes()
    assert written.startswith(codecs.BOM_UTF8) == (encoding == "utf-8-sig")
    text = written.decode(encoding)
    assert text.count(newline) == text.count("\n") == 3  # every line ends the input's way
    lines = text.split(newline)
    assert lines[0] == sep.join(["id", "document", "predicted_label", "prob_0", "prob_1"])
    assert lines[1].split(sep)[:2] == ["1", "좋다"]


def test_the_encoding_advice_is_a_key_predict_takes(tiny_run, tmp_path, capsys):
    path = tmp_path / "rows.csv"
    path.write_bytes(ROWS.encode("cp949"))
    advice = re.search(r"set (data\.encoding=\S+)", refusal(capsys, tiny_run[0], f"input={path}")).group(1)
    predict(tiny_run[0], f"input={path}", advice)
    written = (tmp_path / "rows.predictions.csv").read_bytes()
    assert written.decode("cp949").splitlines()[1].startswith("1,좋다,")  # written back in cp949
    with pytest.raises(UnicodeDecodeError):
        written.decode("utf-8")
