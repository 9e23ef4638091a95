"""Loading encoders and tokenizers by local path or hub name, failing fast when offline.

huggingface_hub retries an unreachable hub for about 50 seconds before it gives up,
so a hub name is tried from the local cache first and the hub only if it answers.
"""

import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from huggingface_hub import constants

from neka.errors import NekaError, one_line


def load_pretrained(load: Callable[..., Any], name: str, key: str, **kwargs: Any) -> Any:
    """`key` is the config key that named the model, so errors say what to change."""
    path = Path(name).expanduser()
    if path.exists():
        try:
            return load(str(path), **kwargs)
        except (OSError, ValueError) as error:
            raise NekaError(f"{key}={name!r}: cannot load from this folder: {one_line(error, 300)}") from None
    if name.startswith((".", "/", "~")) or name.count("/") > 1:
        raise NekaError(f"{key}={name!r}: no such folder; give an existing local folder or a hub name like org/model")
    try:
        return load(name, local_files_only=True, **kwargs)
    except OSError:
        pass  # not in the local cache: ask the hub below
    if not hub_reachable():
        folder = name.rsplit("/", 1)[-1]
        raise NekaError(f"{key}={name!r} is not a local folder, not in the Hugging Face cache, and the hub cannot be "
                        f"reached (offline?); download it where there is network "
                        f"(`hf download {name} --local-dir {folder}`) and set {key}=./{folder}")
    try:
        return load(name, **kwargs)
    except OSError as error:
        raise NekaError(f"{key}={name!r}: cannot load it from the hub: {one_line(error, 300)}") from None


def hub_reachable(timeout: float = 3.0) -> bool:
    endpoint = urlparse(constants.ENDPOINT)
    port = endpoint.port or (443 if endpoint.scheme == "https" else 80)
    try:
        with socket.create_connection((endpoint.hostname, port), timeout=timeout):
            return True
    except OSError:
        return False
