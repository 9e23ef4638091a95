"""TextDataModule: read unlabelled texts, split off a validation share, train or load the
tokenizer, encode as neka.train encodes a table's text columns, and batch by length."""

import logging
from collections.abc import Callable, Iterable

import numpy as np
import pytorch_lightning as pl
from torch.utils.data import DataLoader

from neka.data.batching import Collate, EncodedDataset, length_sorted_loader
from neka.data.columns import column_list
from neka.data.sampling import LengthGroupedBatchSampler, ResumableLoader
from neka.data.splits import check_split_sizes, sample_rows, split_holdout
from neka.data.transform import EncodedRows, encode_table
from neka.data.unknowns import check_unknown_share, log_encoded_samples
from neka.errors import NekaError
from neka.pretraining.texts import read_texts
from neka.tokenization.interface import NekaTokenizer

log = logging.getLogger(__name__)

SPLITS = ("train", "val")


class TextDataModule(pl.LightningDataModule):
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
        self._train_loader: ResumableLoader | None = None
        self._train_loader_state: dict | None = None  # from a checkpoint being resumed

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

    def _loader_settings(self) -> dict:
        return {"collate_fn": Collate(self.pad_id), "num_workers": self.num_workers, "pin_memory": self.pin_memory}

    def train_dataloader(self) -> DataLoader:
        """NekaDataModule's training loader: length-grouped batches whose place in the epoch checkpoints keep."""
        dataset = EncodedDataset(self.encoded["train"])
        if not self.group_by_length:
            return DataLoader(dataset, batch_size=self.batch_size, shuffle=True, **self._loader_settings())
        sampler = LengthGroupedBatchSampler(self.encoded["train"].valid_lengths, self.batch_size, self.seed)
        self._train_loader = ResumableLoader(dataset, sampler, **self._loader_settings())
        if self._train_loader_state:
            self._train_loader.load_state_dict(self._train_loader_state)
        return self._train_loader

    def state_dict(self) -> dict:
        """Saved in checkpoints, restored before Lightning hands the loader its state (see NekaDataModule)."""
        return {"train_loader": self._train_loader.state_dict()} if self._train_loader else {}

    def load_state_dict(self, state_dict: dict) -> None:
        self._train_loader_state = state_dict.get("train_loader")

    def val_dataloader(self) -> DataLoader:
        rank, world_size = (self.trainer.global_rank, self.trainer.world_size) if self.trainer else (0, 1)
        return length_sorted_loader(self.encoded["val"], self.batch_size, self.group_by_length, rank, world_size,
                                    **self._loader_settings())[0]
