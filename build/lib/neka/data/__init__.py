"""Reading a labelled table and turning it into batches: tables, columns, labels, splits,
the sequence transform, batching and length-grouped sampling, the encoding cache, the [UNK] check."""

from neka.data.datamodule import NekaDataModule

__all__ = ["NekaDataModule"]
