import numpy as np
import pandas as pd
import pytest
import torch

from neka.cli.resolvers import packaged_data_path
from neka.data.batching import Collate, EncodedDataset
from neka.data.transform import encode_rows, encode_table
from neka.data.truncation import truncate_longest_first
from neka.errors import NekaError
from neka.tokenization.huggingface import HFTokenizer
from neka.tokenization.wordpiece import train_wordpiece

from conftest import assert_matches_gluonnlp


@pytest.fixture(scope="module")
def korean_rows():
    frame = pd.read_csv(packaged_data_path("nsmc/train.tsv"), sep="\t").head(400)
    tokenizer = HFTokenizer(train_wordpiece(frame["document"], 3000, 2, False), "wordpiece")
    return tokenizer, frame["document"].tolist()


@pytest.mark.parametrize("max_len", [16, 64])
def test_single_sentences_match_gluonnlp(korean_rows, max_len):
    tokenizer, texts = korean_rows
    assert_matches_gluonnlp(tokenizer, [texts], max_len)


@pytest.mark.parametrize("max_len", [12, 40])
def test_sentence_pairs_match_gluonnlp(korean_rows, max_len):
    tokenizer, texts = korean_rows
    batch = assert_matches_gluonnlp(tokenizer, [texts[0::2], texts[1::2]], max_len)
    assert batch["token_type_ids"].sum() > 0  # pairs really produced segment 1


def test_seed_table_row_joins_fields_with_the_tokenizers_specials(word_tokenizer):
    fields = [["1"], ["87"], ["63"]]  # id=1, midterm=87, final=63
    rows = encode_rows([word_tokenizer.encode_batch(f) for f in fields], np.array([0]), word_tokenizer.cls_id,
                       word_tokenizer.sep_id, max_len=64, pair=False)
    pieces = [word_tokenizer.id_to_token(int(i)) for i in rows.row(0)]
    assert " ".join(pieces) == "[CLS] 1 [SEP] 87 [SEP] 63 [SEP]"
    assert rows.first_segment_lengths[0] == 7  # one segment for a joined table row


def test_truncation_cuts_the_longest_field_first_later_on_ties():
    assert truncate_longest_first([5, 5], 8) == [4, 4]
    assert truncate_longest_first([5, 5], 9) == [5, 4]
    assert truncate_longest_first([10, 2, 3], 9) == [4, 2, 3]
    assert truncate_longest_first([100_000], 62) == [62]


def test_rows_never_exceed_max_len(word_tokenizer):
    long_text = " ".join(["영화"] * 500)
    rows = encode_rows([word_tokenizer.encode_batch([long_text, "최고"])], np.array([0, 1]), word_tokenizer.cls_id,
                       word_tokenizer.sep_id, max_len=10, pair=False)
    assert rows.valid_lengths.tolist() == [10, 3]
    assert rows.row(0)[-1] == word_tokenizer.sep_id


def test_max_len_too_small_for_the_fields_is_refused(word_tokenizer):
    with pytest.raises(NekaError, match="data.max_len: 5 leaves no room for 3 fields"):
        encode_rows([[[5]], [[6]], [[7]]], np.array([0]), 2, 3, max_len=5, pair=False)


def test_collate_pads_to_the_longest_row_with_pad_id(word_tokenizer):
    rows = encode_rows([word_tokenizer.encode_batch(["영화 최고", "별로"])], np.array([1, 0]),
                       word_tokenizer.cls_id, word_tokenizer.sep_id, max_len=64, pair=False)
    dataset = EncodedDataset(rows)
    batch = Collate(word_tokenizer.pad_id)([dataset[0], dataset[1]])
    assert batch["input_ids"].shape == (2, 4)
    assert batch["input_ids"][1, -1].item() == word_tokenizer.pad_id
    assert batch["valid_length"].tolist() == [4, 3]
    assert batch["labels"].tolist() == [1, 0]
    assert batch["token_type_ids"].dtype == torch.long and batch["token_type_ids"].sum() == 0


@pytest.mark.parametrize("pad_to", [None, 12])
@pytest.mark.parametrize("labels", [np.array([2, 0, 1, 1]), np.array([0.5, -1.0, 2.25, 0.0], dtype=np.float32)])
def test_a_dataloaders_batched_fetch_collates_as_rows_one_by_one(word_tokenizer, pad_to, labels):
    """The DataLoader hands Collate a RowSelection (EncodedDataset.__getitems__): the batch must be
    what collating the rows one by one, as __getitem__ returns them, gives. Pairs, for segments."""
    from torch.utils.data import DataLoader

    fields = [["영화 최고", "별로", "1 87 63 a b", "좋"], ["a", "b c d", "", "e e"]]
    rows = encode_rows([word_tokenizer.encode_batch(texts) for texts in fields], labels, word_tokenizer.cls_id,
                       word_tokenizer.sep_id, max_len=12, pair=True)
    dataset, collate = EncodedDataset(rows), Collate(word_tokenizer.pad_id, pad_to=pad_to)
    order = [3, 0, 2, 1]
    [fetched] = DataLoader(dataset, batch_size=4, sampler=order, collate_fn=collate)
    one_by_one = collate([dataset[i] for i in order])
    assert fetched.keys() == one_by_one.keys()
    for key in fetched:
        assert fetched[key].dtype == one_by_one[key].dtype and torch.equal(fetched[key], one_by_one[key]), key
    assert fetched["input_ids"].shape == (4, pad_to or max(rows.valid_lengths))
    assert fetched["token_type_ids"].sum() > 0  # the second fields are segment 1
    assert fetched["labels"].tolist() == labels[order].tolist()


def test_encoding_in_chunks_equals_encoding_at_once(word_tokenizer):
    fields = [["영화 최고", "별로 ##다", "1 87 63", "a b c d e", "좋"] * 3, ["a", "b c", "", "d", "e e e"] * 3]
    labels = np.arange(15)
    token_fields = [word_tokenizer.encode_batch(texts) for texts in fields]
    whole = encode_rows(token_fields, labels, word_tokenizer.cls_id, word_tokenizer.sep_id, 8, pair=True)
    chunked = encode_table(word_tokenizer, fields, labels, 8, pair=True, chunk_rows=4)
    for name in ("token_ids", "offsets", "first_segment_lengths", "labels"):
        assert np.array_equal(getattr(chunked, name), getattr(whole, name)), name
