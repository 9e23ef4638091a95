"""The classifier (encoder, dropout, head), its loss and metrics, and how it computes
(dropout masks, attention kernels, precision)."""

from neka.model.classifier import NekaClassifier

__all__ = ["NekaClassifier"]
