"""`python -m neka.vocab SOURCE`: what a vocabulary holds, like the KoBERT notebook's index/word table.

SOURCE is a run folder (its vocab/), a tokenizer folder (a KoBERT folder is recognised by its
SentencePiece .model file) or a hub name (`--kind kobert` for KoBERT's).
"""

import argparse
import sys
from pathlib import Path

from neka.cli.entry import user_errors
from neka.tokenization.interface import NekaTokenizer
from neka.tokenization.loading import load_saved_tokenizer, load_tokenizer


def open_vocabulary(source: str, kind: str) -> NekaTokenizer:
    folder = Path(source)
    if (folder / "vocab").is_dir():
        return load_saved_tokenizer(folder / "vocab")
    if kind == "auto":
        kind = "kobert" if any(folder.glob("*.model")) else "hf"
    return load_tokenizer(kind, pretrained=source)


def describe(tokenizer: NekaTokenizer, start: int, count: int, tokens: list[str]) -> str:
    lines = [f"vocabulary: {tokenizer.name}", f"size: {len(tokenizer)}",
             f"unknown token: {tokenizer.id_to_token(tokenizer.unk_id) if tokenizer.unk_id is not None else None}",
             "special tokens: " + ", ".join(f"{token}={index}" for token, index in
                                             sorted(tokenizer.special_tokens.items(), key=lambda item: item[1]))]
    for token in tokens:
        lines.append(f"token_to_idx[{token!r}] = {tokenizer.token_to_id(token)}")
    lines.append(f"{'index':>7}  piece")
    for index in range(max(start, 0), min(start + count, len(tokenizer))):
        lines.append(f"{index:>7}  {tokenizer.id_to_token(index)}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m neka.vocab", description=__doc__.splitlines()[0])
    parser.add_argument("source", help="run folder, tokenizer folder or hub name")
    parser.add_argument("--start", type=int, default=0, help="first index of the table")
    parser.add_argument("--count", type=int, default=20, help="rows of the table")
    parser.add_argument("--token", action="append", default=[], help="look up this piece's index (repeatable)")
    parser.add_argument("--kind", choices=["auto", "hf", "kobert"], default="auto", help="tokenizer kind of SOURCE")
    args = parser.parse_args(argv)
    with user_errors():
        print(describe(open_vocabulary(args.source, args.kind), args.start, args.count, args.token))


def command() -> None:
    """`python -m neka.vocab` and the console script `neka-vocab`."""
    main(sys.argv[1:])


if __name__ == "__main__":
    command()
