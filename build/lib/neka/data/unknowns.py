"""The classic silent failure of KoBERT fine-tuning: a vocabulary that does not belong to the
tokenizer model turns most pieces into [UNK] and accuracy sits at chance. Show a few encoded
rows and stop when [UNK] is too common."""

import logging

import numpy as np

from neka.data.transform import EncodedRows
from neka.errors import NekaError
from neka.tokenization.interface import NekaTokenizer

log = logging.getLogger(__name__)

SAMPLE_ROWS = 2000


def log_encoded_samples(rows: EncodedRows, tokenizer: NekaTokenizer, count: int = 3) -> None:
    for index in range(min(count, len(rows))):
        ids = rows.row(index).tolist()
        log.info("sample %d: %s -> %s", index, " ".join(tokenizer.id_to_token(i) for i in ids), ids)


def unknown_share(rows: EncodedRows, tokenizer: NekaTokenizer) -> float:
    """Share of [UNK] among the non-special tokens of the first SAMPLE_ROWS rows."""
    if tokenizer.unk_id is None:
        return 0.0
    ids = rows.token_ids[: rows.offsets[min(SAMPLE_ROWS, len(rows))]]
    added = [index for index in tokenizer.special_tokens.values() if index != tokenizer.unk_id]  # [CLS], [SEP]
    text_ids = ids[~np.isin(ids, added)]
    return float((text_ids == tokenizer.unk_id).sum()) / max(len(text_ids), 1)


def check_unknown_share(rows: EncodedRows, tokenizer: NekaTokenizer, limit: float) -> None:
    share = unknown_share(rows, tokenizer)
    log.info("[UNK] share in %d training rows: %.2f%%", min(SAMPLE_ROWS, len(rows)), 100 * share)
    if share > limit:
        raise NekaError(f"data.max_unk_share: {share:.0%} of the tokens in the first {min(SAMPLE_ROWS, len(rows))} "
                        f"training rows are [UNK] (limit {limit:.0%}) with tokenizer {tokenizer.name!r}; the "
                        f"vocabulary likely does not belong to this tokenizer model (a vocab.txt from another "
                        f"release?) or to this language: check tokenizer.pretrained, or raise data.max_unk_share")
