"""A plain wheel install (no -e) works from an empty folder: the configs ship inside the package
as neka.conf, and the console scripts exist. The wheel goes into a fresh virtual environment
that borrows the test environment's installed packages (torch, Lightning, ...) but not its
editable neka, so every neka file it imports comes from the wheel."""

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CLEAN_ENV = {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}  # only the wheel's neka
QUICK = ["trainer.fast_dev_run=true", "data.max_rows=200", "tokenizer.vocab_size=500"]


@pytest.fixture(scope="module")
def wheel_env(tmp_path_factory) -> Path:
    dist, venv = tmp_path_factory.mktemp("dist"), tmp_path_factory.mktemp("wheel-env") / "venv"
    source = tmp_path_factory.mktemp("source") / "neka"  # setuptools builds in build/ and *.egg-info/ of the source
    shutil.copytree(ROOT, source, symlinks=True, ignore=shutil.ignore_patterns(
        ".git", "build", "*.egg-info", "outputs", "multirun", ".venv", "__pycache__", ".pytest_cache"))
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(source)],
                           capture_output=True, text=True, env=CLEAN_ENV)
    assert built.returncode == 0, built.stderr[-3000:]
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    wheel = next(dist.glob("neka-*.whl"))
    installed = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps",
                                "--no-index", str(wheel)], capture_output=True, text=True, env=CLEAN_ENV)
    assert installed.returncode == 0, installed.stderr[-3000:]
    # after the install, which would otherwise find the test environment's neka already there; a
    # path line adds the folder but runs none of its .pth files, so the editable neka's finder stays out
    (site / "test_environment.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return venv


def run_in_empty_folder(command: list[str], folder: Path) -> Path:
    folder.mkdir()
    result = subprocess.run(command, cwd=folder, capture_output=True, text=True, timeout=300, env=CLEAN_ENV)
    assert result.returncode == 0, result.stderr[-3000:]
    return next(folder.glob("outputs/*/*/.hydra/config.yaml")).parents[1]


def test_wheel_trains_from_an_empty_folder_with_python_m_and_the_console_script(wheel_env, tmp_path):
    python = wheel_env / "bin" / "python"
    located = subprocess.run([str(python), "-c", "import neka.conf, neka.train; print(neka.conf.__file__)"],
                             capture_output=True, text=True, check=True, env=CLEAN_ENV, cwd=tmp_path).stdout
    assert str(wheel_env) in located  # the wheel's own files, not the checkout's
    for command, folder in (([str(python), "-m", "neka.train"], tmp_path / "module"),
                            ([str(wheel_env / "bin" / "neka-train")], tmp_path / "script")):
        run_dir = run_in_empty_folder([*command, *QUICK], folder)
        assert (run_dir / "labels.json").is_file() and (run_dir / "vocab").is_dir()
    for name in ("neka-evaluate", "neka-predict", "neka-export", "neka-serve", "neka-vocab", "neka-check"):
        assert (wheel_env / "bin" / name).is_file()
