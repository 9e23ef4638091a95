"""The loaders of a DataModule whose splits are encoded rows (neka.data.transform.EncodedRows):
neka.train's tables and neka.pretrain's texts batch the same way."""

import pytorch_lightning as pl
from torch.utils.data import DataLoader

from neka.data.batching import Collate, EncodedDataset, length_sorted_loader
from neka.data.sampling import LengthGroupedBatchSampler, ResumableLoader


class EncodedDataModule(pl.LightningDataModule):
    """Subclasses fill `encoded` (split -> EncodedRows) in `setup` and set `batch_size`, `seed`,
    `group_by_length`, `num_workers`, `pin_memory` and `pad_id`. Training batches are
    length-grouped and resumable mid-epoch; evaluation batches are whole rows in length order."""

    _train_loader: ResumableLoader | None = None
    _train_loader_state: dict | None = None  # from a checkpoint being resumed

    def collate(self) -> Collate:
        """Pads each batch to its longest row; NekaDataModule can pad to max_len instead."""
        return Collate(self.pad_id)

    def _loader_settings(self) -> dict:
        return {"collate_fn": self.collate(), "num_workers": self.num_workers, "pin_memory": self.pin_memory}

    def train_dataloader(self) -> DataLoader:
        rows = self.encoded["train"]
        if self.group_by_length:
            sampler = LengthGroupedBatchSampler(rows.valid_lengths, self.batch_size, self.seed)
            self._train_loader = ResumableLoader(EncodedDataset(rows), sampler, **self._loader_settings())
            if self._train_loader_state:
                self._train_loader.load_state_dict(self._train_loader_state)
            return self._train_loader
        return DataLoader(EncodedDataset(rows), batch_size=self.batch_size, shuffle=True, **self._loader_settings())

    def state_dict(self) -> dict:
        """The training loader's place in its epoch, saved in checkpoints. Lightning would keep
        it itself, but it builds the loader to count steps for the schedule before it restores
        a checkpoint, and then never hands the loader its state; datamodule state is restored
        before that."""
        return {"train_loader": self._train_loader.state_dict()} if self._train_loader else {}

    def load_state_dict(self, state_dict: dict) -> None:
        self._train_loader_state = state_dict.get("train_loader")

    def evaluation_loader(self, split: str) -> DataLoader:
        """Under DDP each rank takes its share of the rows; torchmetrics reduce their metrics."""
        rank, world_size = (self.trainer.global_rank, self.trainer.world_size) if self.trainer else (0, 1)
        return length_sorted_loader(self.encoded[split], self.batch_size, self.group_by_length, rank, world_size,
                                    **self._loader_settings())[0]

    def val_dataloader(self) -> DataLoader:
        return self.evaluation_loader("val")
