"""Writing files that people and programs read: under a temporary name in the same folder,
then renamed, so a crash leaves either the old complete file or the new one, never half."""

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


@contextlib.contextmanager
def atomic_path(path: Path, is_folder: bool = False, replace: bool = False) -> Iterator[Path]:
    """Yields a temporary path beside `path` to write to; renames it to `path` on success. A new
    folder takes the place of an existing one only with `replace`; otherwise the rename fails
    (OSError) on a non-empty folder, which keeps the first of two concurrent writers' copies."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if is_folder:
        temporary = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}."))
    else:
        handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=path.suffix)
        os.close(handle)
        temporary = Path(name)
    try:
        yield temporary
        os.chmod(temporary, (0o777 if is_folder else 0o666) & ~_umask())  # mkstemp/mkdtemp make them private
        if is_folder and replace and path.exists():
            _swap_in(temporary, path)
        else:
            os.replace(temporary, path)
    finally:
        if temporary.is_dir():
            shutil.rmtree(temporary)
        elif temporary.exists():
            temporary.unlink()


def _swap_in(new: Path, path: Path) -> None:
    """No system call replaces a non-empty folder in one step, and deleting the old one in place
    (rmtree) would leave a half-deleted folder at `path` if it stopped. So the old copy is first
    renamed aside, whole, and deleted only once the new one holds `path`: at every moment one
    complete copy exists, at `path` but for the instant between the two renames (aside, under
    `.<name>.old-*`, if the process died right then), and `path` is never partial."""
    aside = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.old-"))
    os.replace(path, aside / path.name)
    try:
        os.replace(new, path)
    except OSError:
        os.replace(aside / path.name, path)  # the old copy back in its place
        aside.rmdir()
        raise
    shutil.rmtree(aside)
