"""What a pretrained tokenizer is, beyond its name: the encoding cache's key holds it, so a folder
whose tokenizer files were replaced, or a hub name that moved to a new commit, never meets an
encoding made with the old tokenizer."""

import hashlib
from pathlib import Path

from huggingface_hub import constants, model_info
from huggingface_hub.errors import HfHubHTTPError

from neka.hub import hub_reachable

# Weights are large and never change how text is tokenized; every other file of a folder may
# (tokenizer.json, vocab.txt, *.model, tokenizer_config.json, config.json's model_type).
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".ckpt", ".h5", ".msgpack", ".onnx", ".gguf")


def tokenizer_identity(pretrained: str) -> str | None:
    """`files:<sha256>` of a local folder's files but weights; `commit:<sha>` of a hub name, the
    commit the local Hugging Face cache holds (what loading uses first, neka/hub.py) or else the
    hub's; None when neither can be known (offline and not cached: loading fails anyway)."""
    folder = Path(pretrained).expanduser()
    if folder.is_dir():
        return f"files:{hash_files(folder)}"
    if folder.exists():
        return None
    cached = Path(constants.HF_HUB_CACHE) / f"models--{pretrained.replace('/', '--')}" / "refs" / "main"
    if cached.is_file():
        return f"commit:{cached.read_text(encoding='utf-8').strip()}"
    if constants.HF_HUB_OFFLINE or not hub_reachable():
        return None
    try:
        return f"commit:{model_info(pretrained).sha}"
    except HfHubHTTPError:
        return None


def hash_files(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.iterdir() if p.is_file() and not p.name.endswith(WEIGHT_SUFFIXES)):
        digest.update(path.name.encode() + b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()
