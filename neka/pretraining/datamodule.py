"""TextDataModule: read unlabelled texts, split off a validation share, train or load the
tokenizer, encode as neka.train encodes a table's text columns, and batch by length."""

import logging
from collections.abc import Callable, Iterable

import numpy as np

from neka.data.columns import column_list
from neka.data.loaders import EncodedDataModule
from neka.data.splits import check_split_sizes, sample_rows, split_holdout
from neka.data.transform import EncodedRows, encode_table
from neka.data.unknowns import check_unknown_share, log_encoded_samples
from neka.errors import NekaError
from neka.pretraining.texts import read_texts
from neka.tokenization.interface import NekaTokenizer

log = logging.getLogger(__name__)

SPLITS = ("train", "val")


class TextDataModule(EncodedDataModule):
    def __init__(self, path: str, tokenizer_factory: Callable[[Iterable[str]], NekaTokenizer],
                 text_columns: list[str] | None = None, val_size: float = 0.1, max_rows: int | None = None,
                 seed: int = 42, encoding: str = "utf-8", has_header: bool = True, sep: str | None = None,
                 max_len: int = 128, batch_size: int = 64, group_by_length: bool = True, num_workers: int = 0,
                 pin_memory: bool = False, max_unk_share: float = 0.1):
        """The keys neka.train's data config shares mean the same here; there are no labels and no
        test split (a pretraining run is judged by its validation loss, and then by fine-tuning)."""
        super().__init__()
        if not path:
            raise NekaError("data.path: no file given; name your texts, e.g. data.path=corpus.txt (one text per "
                            "line) or data.path=reviews.csv data.text_columns=document")
        if batch_size < 1:
            raise NekaError(f"data.batch_size: must be at least 1, got {batch_size}")
        if max_len < 8:  # [CLS], [SEP] and a few tokens to mask
            raise NekaError(f"data.max_len: {max_len} is too short to hold a text; use at least 8")
        check_split_sizes(val_size, 0)
        self.path, self.text_columns, self.val_size, self.max_rows = path, column_list(text_columns), val_size, max_rows
        self.seed, self.encoding, self.has_header, self.sep = seed, encoding, has_header, sep
        self.max_len, self.batch_size, self.group_by_length = max_len, batch_size, group_by_length
        self.num_workers, self.pin_memory, self.max_unk_share = num_workers, pin_memory, max_unk_share
        self.tokenizer_factory = tokenizer_factory
        self.tokenizer: NekaTokenizer | None = None
        self.input_columns: list[str] = []
        self.encoded: dict[str, EncodedRows] = {}

    @property
    def pad_id(self) -> int:
        return self.tokenizer.pad_id

    @property
    def origins(self) -> dict[str, str]:
        return {"train": f"from {self.path}", "val": f"carved from {self.path}"}

    def setup(self, stage: str | None = None) -> None:
        """Idempotent: the run calls it before the model exists (the vocabulary size comes from
        here), and Lightning calls it again inside fit and validate."""
        if self.encoded:
            return
        texts = sample_rows(read_texts(self.path, self.text_columns, self.encoding, self.has_header, self.sep),
                            self.max_rows, self.seed)
        self.input_columns = list(texts.columns)
        frames = dict(zip(SPLITS, split_holdout(texts, None, self.val_size, self.seed, "data.val_size")))
        fields = {split: [frame[column].tolist() for column in frame.columns] for split, frame in frames.items()}
        self.tokenizer = self.tokenizer_factory(train_texts=(text for column in fields["train"] for text in column))
        for split, frame in frames.items():  # labels: none; encode_table counts rows by them
            self.encoded[split] = encode_table(self.tokenizer, fields[split], np.zeros(len(frame), dtype=np.int64),
                                               self.max_len, pair=False)
        log_encoded_samples(self.encoded["train"], self.tokenizer)
        check_unknown_share(self.encoded["train"], self.tokenizer, self.max_unk_share)
        log.info("rows: %s; text columns %s", ", ".join(f"{split} {len(self.encoded[split]):,} {origin}"
                                                        for split, origin in self.origins.items()), self.input_columns)
