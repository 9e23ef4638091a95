"""`python -m neka.pretrain`: masked-language-model pretraining on unlabelled texts, leaving encoder/
for `python -m neka.train model=bert model.pretrained=<run>/encoder` (neka/pretraining)."""

from pathlib import Path

import hydra
from omegaconf import DictConfig

from neka.cli.configs import CONFIG_PATH
from neka.cli.entry import run_command, user_errors
from neka.pretraining.run import pretrain
from neka.runs.outputs import no_folder_for_user_errors


@hydra.main(version_base="1.3", config_path=CONFIG_PATH, config_name="pretrain")
def main(cfg: DictConfig) -> float | None:
    with user_errors(), no_folder_for_user_errors(Path(cfg.paths.run_dir)):
        return pretrain(cfg).get(cfg.monitor)  # what a sweep compares


def command() -> None:
    """`python -m neka.pretrain` and the console script `neka-pretrain`."""
    run_command(main, "pretrain")


if __name__ == "__main__":
    command()
