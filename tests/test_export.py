"""export replacing an earlier export: never a half-deleted folder in its place."""

import shutil
from pathlib import Path

import pytest
from transformers import AutoModelForSequenceClassification

from neka.export import export_run
from neka.runs.trained import open_run


def test_an_export_stopped_while_replacing_an_earlier_one_leaves_a_complete_folder(tiny_run, tmp_path, monkeypatch):
    run, out = open_run(tiny_run[0]), tmp_path / "hf"
    export_run(run, out)
    export_run(run, out)
    assert list(tmp_path.iterdir()) == [out]  # no staging or old copy left beside it
    files = sorted(path.name for path in out.iterdir())

    def stopped_while_deleting(path, *args, **kwargs):  # the process dies after deleting one file
        next(file for file in sorted(Path(path).rglob("*")) if file.is_file()).unlink()
        raise KeyboardInterrupt

    monkeypatch.setattr(shutil, "rmtree", stopped_while_deleting)
    with pytest.raises(KeyboardInterrupt):
        export_run(run, out)
    assert sorted(path.name for path in out.iterdir()) == files
    AutoModelForSequenceClassification.from_pretrained(out)
