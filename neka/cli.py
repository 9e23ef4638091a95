"""Turns user mistakes into one line on stderr and exit code 2; bugs keep their traceback."""

import contextlib
import sys
from collections.abc import Iterator

from hydra.errors import InstantiationException
from omegaconf.errors import InterpolationResolutionError

from neka.errors import NekaError


@contextlib.contextmanager
def user_errors() -> Iterator[None]:
    try:
        yield
    except NekaError as error:
        _report(error)
    except (InstantiationException, InterpolationResolutionError) as error:
        # Hydra and OmegaConf wrap what a constructor or resolver raised; unwrap ours only
        cause = error.__cause__ or error.__context__
        if not isinstance(cause, NekaError):
            raise
        _report(cause)


def _report(error: NekaError) -> None:
    message = " ".join(str(error).split())  # one line, whatever the message holds
    print(f"neka: error: {message}", file=sys.stderr, flush=True)
    sys.exit(2)
