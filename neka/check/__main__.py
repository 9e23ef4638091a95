"""`python -m neka.check`: the data checks on the table exactly as `neka.train` would read it (the
same data and tokenizer config, split and encoding cache), without training. Writes
check/report.json in the run folder and prints a summary; what would stop a run stops the check
with the same one line and exit code 2."""

from functools import partial
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from neka.check.checks import check_data
from neka.check.mislabelled import check_label_issues
from neka.check.report import format_summary, write_report
from neka.cli.configs import CONFIG_PATH
from neka.cli.entry import run_command, user_errors
from neka.data.datamodule import NekaDataModule
from neka.errors import NekaError
from neka.runs.outputs import no_folder_for_user_errors
from neka.tokenization.loading import load_tokenizer, pretrained_key


@hydra.main(version_base="1.3", config_path=CONFIG_PATH, config_name="check")
def main(cfg: DictConfig) -> None:
    with user_errors(), no_folder_for_user_errors(Path(cfg.paths.run_dir)):
        run(cfg)


def run(cfg: DictConfig) -> dict:
    """Set the data up as training does, check it, write the report and print the summary."""
    if pretrained_key(cfg.tokenizer) == "model.pretrained":  # in training it follows the encoder; no model here
        raise NekaError(f"tokenizer.pretrained: tokenizer={cfg.tokenizer.kind} takes model.pretrained in training; "
                        f"name it here, e.g. tokenizer.pretrained=klue/bert-base")
    tokenizer_settings = OmegaConf.to_container(cfg.tokenizer, resolve=True)
    tokenizer_factory = partial(load_tokenizer, **tokenizer_settings, pretrained_key="tokenizer.pretrained")
    data: NekaDataModule = instantiate(cfg.data, tokenizer_factory=tokenizer_factory,
                                       tokenizer_settings=tokenizer_settings, _convert_="all")
    data.setup("fit")  # training's own stops (a missing column, one class, too many [UNK]) happen here
    report = check_data(data)
    if cfg.label_issues:
        section, found = check_label_issues(Path(cfg.paths.run_dir), check_overrides())
        report["label_issues"] = section
        report["findings"] += [finding.as_dict() for finding in found]
    path = write_report(Path(cfg.paths.run_dir), report)
    print(format_summary(report, path), flush=True)
    return report


def check_overrides() -> list[str]:
    """The command line's data and tokenizer overrides, which the cross-validation trains with."""
    return [override for override in HydraConfig.get().overrides.task if not override.startswith("label_issues=")]


def command() -> None:
    """`python -m neka.check` and the console script `neka-check`."""
    run_command(main, "check")


if __name__ == "__main__":
    command()
