"""neka's configuration as every command composes it: the package `neka.conf`, which is the
repository's conf/ shipped inside the wheel (pyproject.toml maps it), so an installed neka finds
its configs from any folder and a checkout edits them in place."""

from collections.abc import Sequence
from importlib.resources import files
from pathlib import Path

from hydra import compose, initialize_config_module
from omegaconf import DictConfig

CONFIG_PACKAGE = "neka.conf"
CONFIG_PATH = f"pkg://{CONFIG_PACKAGE}"  # what each entry point's @hydra.main reads


def config_dir() -> Path:
    """The folder of the YAML files (a real folder in a wheel and in an editable install)."""
    return Path(str(files(CONFIG_PACKAGE)))


def compose_config(config_name: str, overrides: Sequence[str] = (), return_hydra_config: bool = False) -> DictConfig:
    """A command's config with these overrides, as `python -m neka.<command>` composes it, for
    code that calls a command's `run()` in-process (tests, benchmarks)."""
    with initialize_config_module(CONFIG_PACKAGE, version_base="1.3"):
        return compose(config_name, overrides=list(overrides), return_hydra_config=return_hydra_config)
