"""The Hydra plugins behind sweeps and cluster runs are optional extras. Without one, Hydra stops
while composing the config, before neka runs, with a message about defaults lists; this check
reads the command line first and names the `pip install` instead."""

import importlib.util
from collections.abc import Sequence

from neka.errors import NekaError

OPTUNA = ("hydra_plugins.hydra_optuna_sweeper", "hydra-optuna-sweeper", "sweep")
JOBLIB = ("hydra_plugins.hydra_joblib_launcher", "hydra-joblib-launcher", "sweep")
SUBMITIT = ("hydra_plugins.hydra_submitit_launcher", "hydra-submitit-launcher", "slurm")
# a command-line choice -> (the module it needs, its package, the neka extra that installs it)
PLUGINS = {"hparams_search=optuna": OPTUNA, "hydra/sweeper=optuna": OPTUNA, "hydra/launcher=joblib": JOBLIB,
           "hydra/launcher=submitit_slurm": SUBMITIT, "hydra/launcher=submitit_local": SUBMITIT}


def is_installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # its parent package (hydra_plugins) is absent
        return False


def require_plugins(arguments: Sequence[str], plugins: dict[str, tuple[str, str, str]] = PLUGINS) -> None:
    for argument in arguments:
        choice = argument.lstrip("+")
        if choice in plugins and not is_installed(plugins[choice][0]):
            _, package, extra = plugins[choice]
            raise NekaError(f"{choice} needs the Hydra plugin {package}, which is not installed; install it with "
                            f"pip install -e \".[{extra}]\" in the neka folder, or drop {choice}")
