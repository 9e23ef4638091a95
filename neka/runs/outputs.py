"""What runs leave under outputs/: a run that a user mistake stopped before it wrote anything
leaves no folder, and outputs/latest links to the newest finished run."""

import contextlib
import logging
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

from hydra.errors import InstantiationException
from omegaconf.errors import InterpolationResolutionError
from pytorch_lightning.utilities import rank_zero_only

from neka.errors import NekaError

log = logging.getLogger(__name__)

HYDRA_FILES = {"config.yaml", "hydra.yaml", "overrides.yaml"}  # what Hydra writes into .hydra/ at the start
LOG_FILES = {"train.log", "pretrain.log"}  # Hydra names the log after the command


def holds_only_the_start(run_dir: Path) -> bool:
    """Nothing but Hydra's saved config and the log: no checkpoint, vocabulary, labels or
    anything a user put there."""
    if not run_dir.is_dir() or {p.name for p in run_dir.iterdir()} - {".hydra", *LOG_FILES}:
        return False
    hydra_dir = run_dir / ".hydra"
    return not hydra_dir.exists() or (hydra_dir.is_dir() and not {p.name for p in hydra_dir.iterdir()} - HYDRA_FILES)


@rank_zero_only
def discard_failed_start(run_dir: Path) -> None:
    """A run that stopped at a user mistake (a missing column, a bad path) before writing any
    run file would leave a folder holding only its config and a log of the same error the
    console showed: clutter among the real runs. The log's handlers are closed first, so no
    later record creates the file again; the date folder above goes too if nothing else is in it."""
    if not holds_only_the_start(run_dir) or run_dir.resolve() == Path.cwd().resolve():
        return
    root = logging.getLogger()
    for handler in list(root.handlers):
        if isinstance(handler, logging.FileHandler) and Path(handler.baseFilename).parent == run_dir.resolve():
            root.removeHandler(handler)
            handler.close()
    shutil.rmtree(run_dir)
    if run_dir.parent.resolve() != Path.cwd().resolve():
        with contextlib.suppress(OSError):  # not empty: other runs of the day
            run_dir.parent.rmdir()  # outputs/<date>/, made for this run alone


@contextlib.contextmanager
def no_folder_for_user_errors(run_dir: Path) -> Iterator[None]:
    """Around a run: a NekaError (also as Hydra wraps one) removes the folder if it holds only
    the start, and goes on to neka.cli.entry.user_errors for its one line."""
    try:
        yield
    except (NekaError, InstantiationException, InterpolationResolutionError) as error:
        if isinstance(error, NekaError) or isinstance(error.__cause__ or error.__context__, NekaError):
            discard_failed_start(run_dir)
        raise


@rank_zero_only
def link_latest(run_dir: Path, latest: Path) -> None:
    """`latest` (outputs/latest) becomes a relative link to `run_dir`, replaced in one rename so
    a reader never finds it missing or half made. Only runs inside latest's folder count: not
    sweeps (multirun/), benchmarks or a hydra.run.dir elsewhere. The link is a convenience,
    so a file system without symbolic links gets a warning, not a failed run."""
    run_dir, folder = run_dir.resolve(), latest.parent.resolve()
    if not run_dir.is_relative_to(folder):
        return
    temporary = folder / f".{latest.name}.{os.getpid()}"
    try:
        temporary.unlink(missing_ok=True)
        temporary.symlink_to(os.path.relpath(run_dir, folder), target_is_directory=True)
        os.replace(temporary, latest)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        log.warning("could not link %s to %s: %s", latest, run_dir, error)
