"""ONNX export (float32 and int8) with its parity file, and backend=onnx in predict and serve,
against the shared tiny run."""

import json
import shutil
import sys

import pandas as pd
import pytest

from conftest import assert_user_error, run_in_process

pytest.importorskip("onnxruntime")


@pytest.fixture(scope="module")
def onnx_run(tiny_run, tmp_path_factory):
    """A copy of the tiny run with its float32 export in the run folder's onnx/ subfolder, its
    parity checked on 200 test rows."""
    from neka.onnx import parity

    run_dir = tmp_path_factory.mktemp("onnx") / "run"
    shutil.copytree(tiny_run[0], run_dir)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(parity, "MAX_ROWS", 200)
        result = run_in_process(f"run_dir={run_dir}", f"out={run_dir / 'onnx'}", "format=onnx", cwd=run_dir,
                                module="neka.export")
    assert result.returncode == 0, result.stderr[-3000:]
    return run_dir


def test_float32_export_matches_pytorch_and_holds_what_scoring_needs(onnx_run):
    folder = onnx_run / "onnx"
    parity = json.loads((folder / "parity.json").read_text(encoding="utf-8"))
    assert parity["rows"] > 100 and parity["float32"]["max_abs_diff"] <= 1e-4
    assert parity["float32"]["label_agreement"] == 1.0 and "int8" not in parity
    assert {"model.onnx", "vocab", "labels.json", "inputs.json", "config.yaml"} <= {p.name for p in folder.iterdir()}


def test_predict_with_onnx_gives_the_torch_table(onnx_run, tmp_path):
    texts = ["영화 최고", "", "지루하고 별로였다 " * 40, "배우들 연기가 좋았다"]
    pd.DataFrame({"document": texts}).to_csv(tmp_path / "in.csv", index=False)
    tables = {}
    for backend in ("torch", "onnx"):
        result = run_in_process(f"run_dir={onnx_run}", "input=in.csv", f"output={backend}.csv", f"backend={backend}",
                                cwd=tmp_path, module="neka.predict")
        assert result.returncode == 0, result.stderr[-2000:]
        tables[backend] = pd.read_csv(tmp_path / f"{backend}.csv", keep_default_na=False)
    torch_table, onnx_table = tables["torch"], tables["onnx"]
    assert list(onnx_table.columns) == list(torch_table.columns)
    assert onnx_table["predicted_label"].tolist() == torch_table["predicted_label"].tolist()
    probabilities = [column for column in torch_table.columns if column.startswith("prob_")]
    assert (onnx_table[probabilities] - torch_table[probabilities]).abs().to_numpy().max() <= 1e-4


def test_serve_with_onnx_answers_from_the_export_folder(onnx_run):
    from fastapi.testclient import TestClient

    from neka.inference.onnx_backend import open_backend
    from neka.serve.app import build_app

    client = TestClient(build_app(open_backend("onnx", onnx_run / "onnx"), 16, 8, 100_000))
    answer = client.post("/predict", json={"texts": ["영화 최고"]})
    assert answer.status_code == 200
    [prediction] = answer.json()["predictions"]
    assert prediction["text"] == "영화 최고" and prediction["label"] in prediction["probabilities"]
    assert client.get("/info").json()["checkpoint"] == "model.onnx"


def test_int8_export_reports_the_metric_change(tiny_run, tmp_path, monkeypatch):
    from neka.onnx import parity
    from neka.onnx.export import export_onnx
    from neka.runs.trained import open_run

    monkeypatch.setattr(parity, "MAX_ROWS", 200)
    # the run as model.calibration=null leaves it: the tiny run's temperature, fitted on 60 validation rows, can
    # be 0.3, which triples the logits and int8's error with them; the bound below is for int8's own error
    run_dir = tmp_path / "run"
    shutil.copytree(tiny_run[0], run_dir)
    (run_dir / "calibration.json").unlink()
    export_onnx(open_run(run_dir), tmp_path / "int8", "int8")
    written = json.loads((tmp_path / "int8" / "parity.json").read_text(encoding="utf-8"))
    assert written["rows"] == 200
    change = written["int8"]["change_from_float32"]["test_acc"]
    assert change == pytest.approx(written["int8"]["metrics"]["test_acc"] - written["float32"]["metrics"]["test_acc"],
                                   abs=1e-6)
    assert 0 < written["int8"]["max_abs_diff"] < 0.2  # int8 weights move probabilities, a little


def test_without_onnxruntime_export_names_the_extra(tiny_run, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import onnxruntime now fails as if not installed
    result = run_in_process(f"run_dir={tiny_run[0]}", f"out={tmp_path / 'out'}", "format=onnx", cwd=tmp_path,
                            module="neka.export")
    assert_user_error(result, "format=onnx", "pip install 'neka[onnx]'")
    assert not (tmp_path / "out").exists()
