"""Figures with Korean names draw every glyph: matplotlib warns for each glyph its font lacks."""

import io
import warnings

import numpy as np
import pandas as pd

from neka.inference.reports import confusion_figure, label_confusion_figure
from neka.runs.history import plot_curves


def missing_glyph_warnings(figure) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        figure.savefig(io.BytesIO(), format="png")
    return [str(warning.message) for warning in caught if "missing from font" in str(warning.message)]


def test_korean_class_names_and_titles_draw_in_every_figure():
    probabilities, labels = np.array([[0.9, 0.1], [0.3, 0.7]]), np.array([0, 1])
    confusion = confusion_figure(probabilities, labels, ["부정", "긍정"])
    confusion.axes[0].set_title("학점 예측 −1")  # with the Unicode minus that NanumGothic lacks
    per_label = label_confusion_figure(probabilities, np.array([[1, 0], [0, 1]]), ["혐오", "성별"],
                                       np.array([0.5, 0.5]))
    curves = plot_curves(pd.DataFrame({"epoch": [0, 1], "train_acc": [0.5, 0.6], "val_acc": [0.5, 0.7],
                                       "train_loss": [0.7, 0.6], "val_loss": [0.7, 0.65]}))
    curves.axes[0].set_title("정확도")
    for figure in (confusion, per_label, curves):
        assert missing_glyph_warnings(figure) == []
