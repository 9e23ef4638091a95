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
def atomic_path(path: Path, is_folder: bool = False) -> Iterator[Path]:
    """Yields a temporary path beside `path` to write to; renames it to `path` on success."""
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
        os.replace(temporary, path)
    finally:
        if temporary.is_dir():
            shutil.rmtree(temporary)
        elif temporary.exists():
            temporary.unlink()
