"""The one interface every tokenizer offers (`NekaTokenizer`): what the transform and the
vocabulary view need. Ids without specials for a batch of texts, the special ids, id <-> piece,
size and save; the DataModule never asks which kind it holds."""

from pathlib import Path
from typing import Protocol


class NekaTokenizer(Protocol):
    name: str
    cls_id: int
    sep_id: int
    pad_id: int
    unk_id: int | None
    special_tokens: dict[str, int]

    def __len__(self) -> int: ...
    def encode_batch(self, texts: list[str]) -> list[list[int]]: ...
    def id_to_token(self, index: int) -> str: ...
    def token_to_id(self, token: str) -> int: ...
    def save(self, folder: Path) -> None: ...
