"""KoBERT's tokenizer over `sentencepiece` alone: no mxnet, gluonnlp or kobert-transformers.

Two published layouts hold the same SentencePiece model (8,002 pieces):

- `monologg/kobert`: `tokenizer_78b3253a26.model` plus `vocab.txt` (8,002 lines). Pieces come
  from the SentencePiece model; ids come from `vocab.txt` (line number, 0-based); a piece that
  is not a line of `vocab.txt` becomes `[UNK]`'s id. This is kobert-transformers' KoBertTokenizer.
- `skt/kobert-base-v1`: `spiece.model` alone, read the XLNetTokenizer way: ids are the
  SentencePiece model's own (`PieceToId`), unknown pieces get its unknown id.

Rules shared by both, in order (XLNetTokenizer.preprocess_text and _tokenize):
1. Special tokens written in the text (`[CLS]`, `[SEP]`, `[PAD]`, `[MASK]`, `[UNK]`) are split
   out and map straight to their ids; the spaces around them are dropped.
2. Each other chunk: whitespace runs collapse to one space and the ends are stripped; two
   backquotes or two single quotes become `"`; NFKD, then combining marks are removed
   (`keep_accents=False`); no lowercasing (`do_lower_case=False`, KoBERT is cased).
3. SentencePiece `EncodeAsPieces`; a piece ending in a digit and a comma (`▁1,`) is encoded
   again without the comma, and the comma follows as its own piece.
Specials: `[UNK]` 0, `[PAD]` 1, `[CLS]` 2, `[SEP]` 3, `[MASK]` 4 in both layouts.
`[CLS] a [SEP]` and pairs are built by neka's transform, as gluonnlp's BERTSentenceTransform.
"""

import json
import re
import shutil
import unicodedata
from pathlib import Path

import sentencepiece as spm

from neka.errors import NekaError

SPIECE_UNDERLINE = "▁"
MONOLOGG_MODEL = "tokenizer_78b3253a26.model"
SKT_MODEL = "spiece.model"
SPECIALS = ("[UNK]", "[PAD]", "[CLS]", "[SEP]", "[MASK]")
SAVED_MARKER = "neka_tokenizer.json"  # written by save(); names the layout, so reload never guesses


def detect_layout(folder: Path) -> tuple[str, Path]:
    """('monologg', model file) or ('skt', model file), from the files a folder holds."""
    saved = folder / SAVED_MARKER
    if saved.is_file():
        record = json.loads(saved.read_text(encoding="utf-8"))
        return record["layout"], folder / record["model_file"]
    if (folder / MONOLOGG_MODEL).is_file() and (folder / "vocab.txt").is_file():
        return "monologg", folder / MONOLOGG_MODEL
    if (folder / SKT_MODEL).is_file():
        return "skt", folder / SKT_MODEL
    found = sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []
    raise NekaError(f"tokenizer.pretrained={str(folder)!r} has neither KoBERT layout: expected {MONOLOGG_MODEL} + "
                    f"vocab.txt (monologg/kobert) or {SKT_MODEL} (skt/kobert-base-v1); found {found[:10]}")


class KoBertTokenizer:
    def __init__(self, folder: str | Path, name: str | None = None):
        folder = Path(folder)
        self.layout, self.model_file = detect_layout(folder)
        self.name = name or str(folder)
        self.sp = spm.SentencePieceProcessor(model_file=str(self.model_file))
        if self.layout == "monologg":
            vocab_path = self.model_file.parent / "vocab.txt"
            self.pieces = [line.strip() for line in vocab_path.read_text(encoding="utf-8").splitlines()]
            if len(self.pieces) != self.sp.get_piece_size():
                raise NekaError(f"tokenizer.pretrained: {vocab_path} has {len(self.pieces)} entries but "
                                f"{self.model_file.name} has {self.sp.get_piece_size()} pieces; they must come "
                                f"from the same KoBERT release")
        else:
            self.pieces = [self.sp.id_to_piece(i) for i in range(self.sp.get_piece_size())]
            self.pieces[self.sp.unk_id()] = "[UNK]"  # XLNetTokenizer maps its unk_token "[UNK]" to this id
        self.piece_to_id = {piece: index for index, piece in enumerate(self.pieces)}
        missing = [token for token in SPECIALS if token not in self.piece_to_id]
        if missing:
            raise NekaError(f"tokenizer.pretrained: {self.model_file.name} has no {missing} piece; "
                            f"is this a KoBERT tokenizer?")
        self.special_pattern = re.compile("(" + "|".join(re.escape(t) for t in SPECIALS) + ")")

    @property
    def cls_id(self) -> int:
        return self.piece_to_id["[CLS]"]

    @property
    def sep_id(self) -> int:
        return self.piece_to_id["[SEP]"]

    @property
    def pad_id(self) -> int:
        return self.piece_to_id["[PAD]"]

    @property
    def unk_id(self) -> int:
        return self.piece_to_id["[UNK]"]

    @property
    def special_tokens(self) -> dict[str, int]:
        return {token: self.piece_to_id[token] for token in SPECIALS}

    def __len__(self) -> int:
        return len(self.pieces)

    def id_to_token(self, index: int) -> str:
        return self.pieces[index]

    def token_to_id(self, token: str) -> int:
        return self.piece_to_id.get(token, self.unk_id)

    def tokenize(self, text: str) -> list[str]:
        pieces: list[str] = []
        for chunk in self.special_pattern.split(text):
            if chunk in self.special_tokens:
                pieces.append(chunk)
            elif chunk.strip():
                pieces.extend(self._tokenize_chunk(chunk))
        return pieces

    def encode_batch(self, texts: list[str]) -> list[list[int]]:
        """Ids without special tokens; the transform adds [CLS]/[SEP] itself."""
        return [[self.token_to_id(piece) for piece in self.tokenize(text)] for text in texts]

    def _tokenize_chunk(self, text: str) -> list[str]:
        text = " ".join(text.strip().split()).replace("``", '"').replace("''", '"')
        text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
        pieces = []
        for piece in self.sp.encode(text, out_type=str):
            if len(piece) > 1 and piece[-1] == "," and piece[-2].isdigit():
                parts = self.sp.encode(piece[:-1].replace(SPIECE_UNDERLINE, ""), out_type=str)
                if piece[0] != SPIECE_UNDERLINE and parts[0][0] == SPIECE_UNDERLINE:
                    parts = parts[1:] if len(parts[0]) == 1 else [parts[0][1:], *parts[1:]]
                pieces.extend([*parts, piece[-1]])
            else:
                pieces.append(piece)
        return pieces

    def save(self, folder: Path) -> None:
        """The model file under its published name, vocab.txt (the id order, to read) and a
        marker naming the layout, so the run folder reloads as the same tokenizer."""
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self.model_file, folder / self.model_file.name)
        (folder / "vocab.txt").write_text("".join(f"{piece}\n" for piece in self.pieces), encoding="utf-8")
        marker = {"kind": "kobert", "layout": self.layout, "model_file": self.model_file.name}
        (folder / SAVED_MARKER).write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")
