"""Each split's rows as the checks see them: the input cells joined as the model reads them, a
normalised form of that text, and the label."""

from collections.abc import Callable

import pandas as pd

from neka.data.columns import cells_as_text
from neka.data.labels import label_names

SEPARATOR = " [SEP] "  # between the fields of a table or pair row, as the encoder sees them


def split_rows(frames: dict[str, pd.DataFrame], input_columns: list[str], label_column: str,
               is_regression: bool, label_texts: Callable[[pd.DataFrame], pd.Series] | None = None
               ) -> dict[str, pd.DataFrame]:
    """Per split: `text`, `normalised` and `label` (the class name neka trains on, or the number;
    `label_texts` gives it for multi-label rows: NekaDataModule.label_texts, the set as one text),
    indexed by each row's position among its file's data rows (counting from 0)."""
    rows = {}
    for split, frame in frames.items():
        fields = [pd.Series(cells_as_text(frame[column]), index=frame.index) for column in input_columns]
        text = fields[0].str.cat(fields[1:], sep=SEPARATOR) if len(fields) > 1 else fields[0]
        labels = (label_texts(frame) if label_texts else frame[label_column] if is_regression
                  else label_names(frame[label_column]))
        rows[split] = pd.DataFrame({"text": text, "normalised": normalise(text), "label": labels})
    return rows


def normalise(texts: pd.Series) -> pd.Series:
    """NFKC, case folded, without whitespace, punctuation or symbols: "영화 최고!!" and "영화최고" are one
    text. Korean reviews differ most in spacing and trailing punctuation, so spacing is ignored
    entirely, not only collapsed."""
    return texts.str.normalize("NFKC").str.casefold().str.replace(r"[\W_]+", "", regex=True)
