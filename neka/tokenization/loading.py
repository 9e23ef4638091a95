"""`tokenizer=`: a Hugging Face tokenizer by name or path, KoBERT's SentencePiece tokenizer, or a
WordPiece vocabulary trained on the training split; and the tokenizer a run folder saved."""

from collections.abc import Iterable
from pathlib import Path

from huggingface_hub import _CACHED_NO_EXIST, constants, file_exists, snapshot_download, try_to_load_from_cache
from huggingface_hub.errors import HfHubHTTPError
from omegaconf import DictConfig, OmegaConf
from transformers import AutoTokenizer

from neka.errors import NekaError
from neka.hub import hub_reachable, load_pretrained
from neka.tokenization.huggingface import HFTokenizer
from neka.tokenization.interface import NekaTokenizer
from neka.tokenization.kobert import MONOLOGG_MODEL, SAVED_MARKER, KoBertTokenizer
from neka.tokenization.wordpiece import train_wordpiece


def load_tokenizer(kind: str, pretrained: str | None = None, vocab_size: int = 8000, min_frequency: int = 2,
                   lowercase: bool = False, train_texts: Iterable[str] = (),
                   trust_remote_code: bool = False, pretrained_key: str = "tokenizer.pretrained") -> NekaTokenizer:
    """`train_texts` (the training split's fields) are used only by kind=wordpiece; `pretrained_key`
    is the key that set `pretrained` (see `pretrained_key`), named when it cannot be loaded."""
    if kind == "hf":
        if not pretrained:
            raise NekaError("tokenizer.pretrained: give a Hugging Face tokenizer's name or folder (tokenizer=hf)")
        if has_kobert_files(pretrained):
            return load_pretrained(load_kobert, pretrained, pretrained_key)
        backend = load_pretrained(AutoTokenizer.from_pretrained, pretrained, pretrained_key,
                                  trust_remote_code=trust_remote_code)
        return HFTokenizer(backend, pretrained)
    if kind == "kobert":
        if not pretrained:
            raise NekaError("tokenizer.pretrained: a KoBERT folder or hub name is required for tokenizer=kobert")
        return load_pretrained(load_kobert, pretrained, pretrained_key)
    if kind == "wordpiece":
        return HFTokenizer(train_wordpiece(train_texts, vocab_size, min_frequency, lowercase), "wordpiece")
    raise NekaError(f"tokenizer.kind: unknown kind {kind!r}; use tokenizer=hf, kobert or wordpiece")


def pretrained_key(tokenizer: DictConfig) -> str:
    """tokenizer.pretrained is `${model.pretrained}` unless set apart: then model.pretrained is the
    key to change (one folder serves both), and advice to set tokenizer.pretrained would leave the
    encoder still looking for the hub."""
    following = OmegaConf.to_container(tokenizer, resolve=False).get("pretrained") == "${model.pretrained}"
    return "model.pretrained" if following else "tokenizer.pretrained"


def load_kobert(name_or_path: str, local_files_only: bool = False) -> KoBertTokenizer:
    """A local folder as it is; a hub name through the hub's cache (only the tokenizer files)."""
    if Path(name_or_path).is_dir():
        return KoBertTokenizer(name_or_path)
    folder = snapshot_download(name_or_path, allow_patterns=["*.model", "vocab.txt"], local_files_only=local_files_only)
    return KoBertTokenizer(folder, name=name_or_path)


def has_kobert_files(name_or_path: str) -> bool:
    """Whether a folder or hub repository holds KoBERT's SentencePiece files (monologg's layout), as
    DistilKoBERT's does beside a DistilBERT config: AutoTokenizer would read its vocab.txt as a
    WordPiece vocabulary and split text into other pieces than the encoder learnt."""
    path = Path(name_or_path).expanduser()
    if path.is_dir():
        return (path / MONOLOGG_MODEL).is_file()
    if path.exists() or name_or_path.startswith((".", "/", "~")) or name_or_path.count("/") > 1:
        return False
    cached = try_to_load_from_cache(name_or_path, MONOLOGG_MODEL)
    if isinstance(cached, str) or cached is _CACHED_NO_EXIST:
        return isinstance(cached, str)
    if constants.HF_HUB_OFFLINE or not hub_reachable():
        return False
    try:
        return file_exists(name_or_path, MONOLOGG_MODEL)
    except HfHubHTTPError:
        return False


def load_saved_tokenizer(folder: Path) -> NekaTokenizer:
    """A tokenizer saved in a run folder by `save`."""
    if (folder / SAVED_MARKER).is_file():
        return KoBertTokenizer(folder)
    return HFTokenizer(AutoTokenizer.from_pretrained(str(folder)), str(folder))
