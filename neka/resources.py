"""Files shipped inside the package, reachable from YAML as ${neka_data:nsmc/train.tsv}."""

from pathlib import Path

from omegaconf import OmegaConf

DATASETS_DIR = Path(__file__).parent / "datasets"


def packaged_data_path(relative: str) -> str:
    return str(DATASETS_DIR / relative)


def register_resolvers() -> None:
    if not OmegaConf.has_resolver("neka_data"):
        OmegaConf.register_new_resolver("neka_data", packaged_data_path)
