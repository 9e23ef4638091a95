"""One line for each configuration mistake Hydra or OmegaConf stops on: a key the chosen config
does not have, an unknown group option, an override Hydra cannot parse, a required value not given.

Hydra says *that* a key is missing; it cannot say which option of a group has it, so the YAML
files of that group in conf/ are read for that (only on this error path).
"""

import difflib
import re
from functools import cache

from hydra.errors import ConfigCompositionException, MissingConfigException, OverrideParseException
from omegaconf import OmegaConf
from omegaconf.errors import InterpolationToMissingValueError, MissingMandatoryValue

from neka.cli.configs import config_dir

CONF_DIR = config_dir()
# a required key -> what it is, and an example value
REQUIRED = {
    "run_dir": ("the folder of a finished training run", "outputs/2026-11-29/14-03-12-123456"),
    "input": ("the table to score, or - for one row per line on stdin", "reviews.csv"),
    "out": ("the folder to write the Hugging Face model to", "my-model"),
    "model.pretrained": ("a Hugging Face name or folder", "klue/bert-base"),
    "data.path": ("the table to train on (CSV, TSV, JSONL, Parquet, XLSX)", "grades.csv"),
    "data.label_column": ("the column that holds the labels", "학점"),
}


def describe(error: Exception, config_name: str, choices: dict[str, str] | None = None) -> str | None:
    """The line for one of the mistakes above; None for any other exception, which keeps its traceback.
    `choices` are the running command's group options (model=bert), named with a missing value."""
    if isinstance(error, OverrideParseException):
        return parse_error_message(error.override)
    if isinstance(error, MissingConfigException) and error.options and error.missing_cfg_file:
        group, _, option = error.missing_cfg_file.rpartition("/")
        return unknown_option_message(group, option, error.options)
    if isinstance(error, (MissingMandatoryValue, InterpolationToMissingValueError)):
        return missing_value_message(missing_key(error), choices or {})
    if isinstance(error, ConfigCompositionException):
        overridden = re.match(r"Could not override '([^']+)'", str(error))
        if overridden:
            return unknown_key_message(overridden[1], config_name)
        return f"{str(error).split('Config search path:')[0]} {error.__cause__ or ''}"
    return None


def parse_error_message(override: str) -> str:
    key, equals, value = override.partition("=")
    if not equals:
        return f"{override}: expected key=value or group=option"
    if not key.isascii():
        return f"{override}: {key} is not a key; keys are ASCII names like data.label_column (values may be Korean)"
    quoted = f"'{key}=\"{value}\"'" if "'" in value else f"\"{key}='{value}'\""
    return (f"{override}: Hydra cannot read this value; a list is written [a,b], and text that holds , [ ] {{ }} "
            f"( ) = goes in quotes: {quoted}")


def unknown_option_message(group: str, option: str, options: list[str]) -> str:
    message = f"{group}={option}: no such option; {group} is one of {', '.join(sorted(options))}"
    elsewhere = sorted(path.parent.relative_to(CONF_DIR).as_posix() for path in CONF_DIR.glob(f"*/{option}.yaml"))
    if elsewhere:
        message += f" ({option} is an option of {' and '.join(f'{other}={option}' for other in elsewhere)})"
    return message


def unknown_key_message(key: str, config_name: str) -> str:
    group = key.split(".")[0]
    if (CONF_DIR / group).is_dir() and group != "hydra":
        holders = [option for option in group_options(group) if key in option_keys(group, option)]
        if holders:
            named = " and ".join(f"{group}={option}" for option in holders)
            return f"{key} is a key of {named}; add {group}={holders[0]}"
    keys = config_keys(config_name)
    close = difflib.get_close_matches(key, keys, n=1)
    if close:
        return f"{key}: no such key; did you mean {close[0]}?"
    parent = key.rpartition(".")[0]
    siblings = sorted({k for k in keys if k.rpartition(".")[0] == parent})
    if not siblings:
        return f"{key}: no such key in the {config_name} config"
    return f"{key}: no such key; the keys {'of ' + parent + ' ' if parent else ''}are {', '.join(siblings)}"


def missing_key(error: MissingMandatoryValue | InterpolationToMissingValueError) -> str:
    """An interpolation names the key it reads only in its message."""
    named = re.search(r"Missing mandatory value: (\S+)", str(error))
    return named[1] if named else str(error.full_key)


def missing_value_message(key: str, choices: dict[str, str]) -> str:
    group = key.split(".")[0]
    chosen = f" with {group}={choices[group]}" if "." in key and group in choices else ""
    what, example = REQUIRED.get(key, ("a value", "VALUE"))
    return f"{key} is required{chosen}: {what}, e.g. {key}={example}"


def group_options(group: str) -> list[str]:
    return sorted(path.stem for path in (CONF_DIR / group).glob("*.yaml"))


@cache
def option_keys(group: str, option: str) -> frozenset[str]:
    """The dotted keys that conf/<group>/<option>.yaml sets, at the package it declares, with
    those of the same group's options it lists in its defaults (minilm lists bert)."""
    path = CONF_DIR / group / f"{option}.yaml"
    declared = re.search(r"^#\s*@package\s+(\S+)", path.read_text(encoding="utf-8"), re.MULTILINE)
    package = declared[1] if declared else "_group_"
    prefix = {"_global_": "", "_group_": group.replace("/", ".")}.get(package, package)
    content = OmegaConf.to_container(OmegaConf.load(path), resolve=False)
    keys = set(_dotted_keys(content, prefix))
    for entry in content.get("defaults", []):
        if isinstance(entry, str) and entry != "_self_" and (CONF_DIR / group / f"{entry}.yaml").is_file():
            keys |= option_keys(group, entry)
    return frozenset(keys)


def config_keys(config_name: str) -> list[str]:
    """Every key a primary config and any option of its groups can set."""
    content = OmegaConf.to_container(OmegaConf.load(CONF_DIR / f"{config_name}.yaml"), resolve=False)
    keys = set(_dotted_keys(content, ""))
    for entry in content.get("defaults", []):
        group = next(iter(entry)) if isinstance(entry, dict) else None
        if group and (CONF_DIR / group).is_dir() and group != "hydra":
            keys.add(group)
            keys |= {key for option in group_options(group) for key in option_keys(group, option)}
    return sorted(keys)


def _dotted_keys(content: dict, prefix: str):
    for name, value in content.items():
        if name == "defaults" or (name == "hydra" and not prefix):
            continue
        key = f"{prefix}.{name}" if prefix else str(name)
        yield key
        if isinstance(value, dict):
            yield from _dotted_keys(value, key)
