"""Turns user mistakes into one line on stderr and exit code 2; bugs keep their traceback."""

import contextlib
import sys
from collections.abc import Iterator

from neka.errors import NekaError


@contextlib.contextmanager
def user_errors() -> Iterator[None]:
    try:
        yield
    except NekaError as error:
        message = " ".join(str(error).split())  # one line, whatever the message holds
        print(f"neka: error: {message}", file=sys.stderr, flush=True)
        sys.exit(2)
