"""What happens to a row longer than `max_len` (`data.truncation`).

- `head`: the KoBERT notebook's cut, the first tokens of each field that fit.
- `head_tail`: the first quarter and the last three quarters of the tokens that fit: Sun et al.
  (2019, "How to Fine-Tune BERT for Text Classification?") found keeping the first 128 and the
  last 382 of 510 tokens best on long reviews, where the verdict is often at the end.
- `windows`: the row becomes overlapping windows of `max_len`, `window_stride` tokens apart;
  training sees each window with the row's label, and scoring pools the windows' logits back to
  one row (neka/model/windows.py), so every output is still one row per input row.

Several fields (pairs, tables) are cut longest field first, as in `head`; `head_tail` cuts each
field it shortens the same way, and windows slide over the field cut the most.
"""

from dataclasses import dataclass

from neka.errors import NekaError

MODES = ("head", "head_tail", "windows")
AGGREGATIONS = ("mean", "max")


@dataclass(frozen=True)
class Truncation:
    mode: str = "head"
    window_stride: int | None = None  # tokens between window starts; None: half a window
    window_aggregation: str = "mean"  # how scoring pools a row's windows' logits

    def __post_init__(self):
        if self.mode not in MODES:
            raise NekaError(f"data.truncation: unknown mode {self.mode!r}; use one of {', '.join(MODES)}")
        if self.window_aggregation not in AGGREGATIONS:
            raise NekaError(f"data.window_aggregation: unknown value {self.window_aggregation!r}; use mean or max")
        if self.window_stride is not None and (not isinstance(self.window_stride, int) or self.window_stride < 1):
            raise NekaError(f"data.window_stride: {self.window_stride!r}; use a number of tokens of at least 1, "
                            f"or null for half a window")


def truncate_longest_first(lengths: list[int], budget: int) -> list[int]:
    """Field lengths after cutting to `budget` tokens in total, gluonnlp's rule generalised:
    while too long, drop the last token of the longest field (the later field on ties)."""
    lengths = list(lengths)
    if len(lengths) == 1:
        return [min(lengths[0], budget)]
    excess = sum(lengths) - budget
    while excess > 0:
        longest = max(lengths)
        index = len(lengths) - 1 - lengths[::-1].index(longest)  # the later field on ties
        lengths[index] -= 1
        excess -= 1
    return lengths


def cut_row(fields: list[list[int]], budget: int, truncation: Truncation) -> list[list[list[int]]]:
    """A row's fields (token ids, no specials) as one or more sequences of fields that fit `budget`."""
    lengths = [len(ids) for ids in fields]
    kept = truncate_longest_first(lengths, budget)
    if kept == lengths:
        return [fields]
    if truncation.mode == "head":
        return [[ids[:keep] for ids, keep in zip(fields, kept)]]
    if truncation.mode == "head_tail":
        return [[head_and_tail(ids, keep) for ids, keep in zip(fields, kept)]]
    cuts = [length - keep for length, keep in zip(lengths, kept)]
    sliding = len(cuts) - 1 - cuts[::-1].index(max(cuts))  # the field cut the most, the later on ties
    width = kept[sliding]
    step = min(truncation.window_stride or max(width // 2, 1), width)
    last_start = lengths[sliding] - width
    starts = [*range(0, last_start, step), last_start]  # the last window ends where the field ends
    return [[ids[start:start + width] if index == sliding else ids[:keep]
             for index, (ids, keep) in enumerate(zip(fields, kept))] for start in starts]


def head_and_tail(ids: list[int], keep: int) -> list[int]:
    if keep >= len(ids):
        return ids
    head = keep // 4
    return ids[:head] + ids[len(ids) - (keep - head):]


def describe_long_rows(splits: dict, max_len: int, truncation: Truncation) -> str:
    """One log line: each split's rows (neka.data.transform.EncodedRows) longer than max_len, and what
    became of them."""
    counts = {name: (rows.cut_count(max_len), len(rows)) for name, rows in splits.items()}
    shares = ", ".join(f"{name} {cut:,} of {total:,} ({cut / max(total, 1):.1%})"
                       for name, (cut, total) in counts.items())
    if not any(cut for cut, _ in counts.values()):
        return f"rows longer than data.max_len={max_len}: none ({shares})"
    if truncation.mode == "windows":
        extra = sum(rows.sequence_count - len(rows) for rows in splits.values())
        fate = (f"each read as overlapping windows, {extra:,} windows more in all "
                f"(data.truncation=windows, window_stride={truncation.window_stride or 'half a window'})")
    else:
        fate = {"head": "their first tokens kept (data.truncation=head)",
                "head_tail": "their first quarter and last three quarters kept (data.truncation=head_tail)"
                }[truncation.mode]
    return f"rows longer than data.max_len={max_len}: {shares}; {fate}"
