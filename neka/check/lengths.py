"""How long the rows are: near-empty texts, and in tokens, as the run's tokenizer cuts them: the
share of rows cut at max_len, length percentiles, the max_len that would keep most rows whole,
and the [UNK] share the run stops on (neka.data.unknowns)."""

import math

import numpy as np
import pandas as pd

from neka.check.findings import Finding
from neka.data.columns import cells_as_text
from neka.data.transform import EncodedRows
from neka.data.unknowns import SAMPLE_ROWS, unknown_share
from neka.tokenization.interface import NekaTokenizer

EXAMPLES = 5
NEAR_EMPTY = 1  # characters left after normalising (neka.check.texts.normalise): "ㅋ", "...", "!!"
CUT_SHARE = 0.05  # a larger share of training rows cut at max_len is worth a warning
CHUNK_ROWS = 20_000  # as neka.data.transform.encode_table: the tokenizer's Python lists for one chunk at a time


def check_near_empty(rows: dict[str, pd.DataFrame], file_keys: dict[str, str]) -> tuple[dict, list[Finding]]:
    section, findings = {}, []
    for split, frame in rows.items():
        short = frame[frame.normalised.str.len() <= NEAR_EMPTY]
        section[split] = {"rows": len(short), "examples": [{"row": int(position) + 1, "text": text}
                                                           for position, text in short.text.head(EXAMPLES).items()]}
    count = sum(part["rows"] for part in section.values())
    if count:
        where = ", ".join(f"{split} {part['rows']}" for split, part in section.items() if part["rows"])
        findings.append(Finding("texts", count, f"{count} rows are empty or one character once spacing and "
                                                f"punctuation are removed ({where})",
                                "remove them from " + ", ".join(dict.fromkeys(file_keys[split] for split, part
                                                                              in section.items() if part["rows"]))))
    return {"near_empty": section}, findings


def token_lengths(tokenizer: NekaTokenizer, frame: pd.DataFrame, input_columns: list[str],
                  encoded: EncodedRows | None = None) -> np.ndarray:
    """Each row's length before cutting: [CLS], and each field's pieces and its [SEP], as
    neka.data.transform builds a row. Given `encoded`, the same rows as set up and in the same
    order, their recorded full lengths: nothing is tokenized again (on 180,000 training rows, 3 s)."""
    if encoded is not None:
        return encoded.full_lengths.astype(np.int64)
    fields = [cells_as_text(frame[column]) for column in input_columns]
    lengths = np.full(len(frame), 1 + len(fields), dtype=np.int64)
    for texts in fields:
        for start in range(0, len(texts), CHUNK_ROWS):
            chunk = tokenizer.encode_batch(texts[start:start + CHUNK_ROWS])
            lengths[start:start + CHUNK_ROWS] += [len(ids) for ids in chunk]
    return lengths


def length_needed(lengths: np.ndarray, share: float) -> int:
    """The smallest max_len that keeps at least `share` of the rows whole."""
    return int(np.sort(lengths)[max(math.ceil(share * len(lengths)) - 1, 0)])


def cut_finding(cut_share: float, cut_count: int, max_len: int, keeps_99: int) -> Finding | None:
    if cut_share <= CUT_SHARE:
        return None
    return Finding("tokens", cut_count, f"{cut_share:.1%} of training rows are cut at data.max_len={max_len}",
                   f"data.max_len={keeps_99} keeps 99 % of them whole, or data.truncation=windows reads every token")


def check_tokens(lengths: dict[str, np.ndarray], texts: dict[str, pd.Series], encoded: dict[str, EncodedRows],
                 tokenizer: NekaTokenizer, max_len: int, max_unk_share: float) -> tuple[dict, list[Finding]]:
    train = lengths["train"]
    percentiles = {f"p{q}": int(np.percentile(train, q, method="higher")) for q in (50, 90, 99)}
    keeps = {"95": length_needed(train, 0.95), "99": length_needed(train, 0.99)}
    long_rows = np.flatnonzero(train > 2 * max_len)
    section = {
        "max_len": max_len,
        "train_lengths": {**percentiles, "max": int(train.max())},
        "max_len_keeping": keeps,
        "cut": {split: {"rows": int((split_lengths > max_len).sum()),
                        "share": round(float((split_lengths > max_len).mean()), 4)}
                for split, split_lengths in lengths.items()},
        "unk_share": {split: round(unknown_share(rows, tokenizer), 4) for split, rows in encoded.items()},
        "unk_rows_sampled": SAMPLE_ROWS,
        "long": {"rows": len(long_rows), "tokens_over": 2 * max_len,
                 "examples": [{"row": int(texts["train"].index[i]) + 1, "tokens": int(train[i]),
                               "text": texts["train"].iloc[i][:300]} for i in long_rows[:EXAMPLES]]},
    }
    findings = []
    finding = cut_finding(section["cut"]["train"]["share"], section["cut"]["train"]["rows"], max_len, keeps["99"])
    if finding:
        findings.append(finding)
    if len(long_rows):
        findings.append(Finding("tokens", len(long_rows), f"{len(long_rows)} training rows are longer than "
                                                          f"{2 * max_len} tokens: more than half of each is cut",
                                "split them into shorter rows, or raise data.max_len"))
    for split, share in section["unk_share"].items():
        if share > max_unk_share / 2:  # training stops above data.max_unk_share on its training rows
            unknown_count = int((encoded[split].token_ids == tokenizer.unk_id).sum())
            findings.append(Finding("tokens", unknown_count, f"{share:.1%} of the {split} tokens are [UNK] "
                                                             f"(training stops above {max_unk_share:.0%})",
                                    "a tokenizer whose vocabulary fits this text (tokenizer=, tokenizer.pretrained)"))
    return section, findings
