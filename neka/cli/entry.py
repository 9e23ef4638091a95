"""Turns user mistakes into one line on stderr and exit code 2; bugs keep their traceback."""

import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from typing import Any

from hydra.core.hydra_config import HydraConfig
from hydra.errors import ConfigCompositionException, InstantiationException, OverrideParseException
from omegaconf.errors import InterpolationResolutionError, InterpolationToMissingValueError, MissingMandatoryValue

from neka.cli.config_errors import describe
from neka.cli.overrides import quote_arguments
from neka.errors import NekaError, one_line

MISSING_VALUE = (MissingMandatoryValue, InterpolationToMissingValueError)  # a ??? in the config, not set
HYDRA_CONFIG_ERRORS = (ConfigCompositionException, OverrideParseException, *MISSING_VALUE)


def run_command(main: Callable[[], Any], config_name: str) -> None:
    """Every entry point's `__main__`: Korean values need no quotes (neka.cli.overrides), and Hydra's
    config errors get neka's one line. Hydra prints those itself (several lines, exit 1) unless
    HYDRA_FULL_ERROR=1, when it raises them instead; so that is set for the call where the user has
    not set it, and a user who has sees Hydra's full error as before. Processes started meanwhile
    (DDP ranks) inherit it; they compose the config their parent already composed."""
    sys.argv[1:] = quote_arguments(sys.argv[1:])  # in place: DDP ranks rerun this command line
    chosen = os.environ.get("HYDRA_FULL_ERROR")
    if chosen == "1":
        main()
        return
    os.environ["HYDRA_FULL_ERROR"] = "1"
    try:
        main()
    except HYDRA_CONFIG_ERRORS as error:
        _report(NekaError(describe(error, config_name, _choices())))
    finally:
        if chosen is None:
            del os.environ["HYDRA_FULL_ERROR"]
        else:
            os.environ["HYDRA_FULL_ERROR"] = chosen


@contextlib.contextmanager
def user_errors() -> Iterator[None]:
    try:
        yield
    except NekaError as error:
        _report(error)
    except MISSING_VALUE as error:
        _report(NekaError(describe(error, "", _choices())))
    except (InstantiationException, InterpolationResolutionError) as error:
        # Hydra and OmegaConf wrap what a constructor or resolver raised; unwrap ours only
        cause = error.__cause__ or error.__context__
        if not isinstance(cause, NekaError):
            raise
        _report(cause)


def _choices() -> dict[str, str]:
    """The group options of the running command (model=bert), for messages."""
    return dict(HydraConfig.get().runtime.choices) if HydraConfig.initialized() else {}


def _report(error: NekaError) -> None:
    print(f"neka: error: {one_line(error)}", file=sys.stderr, flush=True)
    sys.exit(2)
