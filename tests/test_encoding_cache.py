"""A second setup on the same table and settings reads the first one's encoding back."""

import inspect
from functools import partial

import huggingface_hub
import numpy as np
import pandas as pd

from neka.cli.resolvers import packaged_data_path
from neka.data.datamodule import NekaDataModule
from neka.data.encoding_cache import NOT_IN_KEY, cache_folder
from neka.tokenization.identity import tokenizer_identity
from neka.tokenization.loading import load_tokenizer
from neka.tokenization.wordpiece import train_wordpiece

SETTINGS = {"kind": "wordpiece", "vocab_size": 2000}


def setup_data(table, cache_dir, **options) -> NekaDataModule:
    data = NekaDataModule(str(table), "label", partial(load_tokenizer, **SETTINGS), text_columns=["document"],
                          cache_dir=str(cache_dir), tokenizer_settings=SETTINGS, **options)
    data.setup("fit")
    return data


def test_same_table_and_settings_reuse_the_encoding_and_vocabulary(tmp_path, caplog):
    table = tmp_path / "reviews.tsv"
    pd.read_csv(packaged_data_path("nsmc/train.tsv"), sep="\t").head(300).to_csv(table, sep="\t", index=False)
    first = setup_data(table, tmp_path / "cache")
    caplog.set_level("INFO", logger="neka.data.encoding_cache")
    second = setup_data(table, tmp_path / "cache")
    assert "reused the encoding cached" in caplog.text
    assert second.label_map == first.label_map and second.input_columns == first.input_columns
    for split in ("train", "val", "test"):
        assert np.array_equal(second.encoded[split].token_ids, first.encoded[split].token_ids)
        assert np.array_equal(second.encoded[split].labels, first.encoded[split].labels)
    assert [second.tokenizer.id_to_token(i) for i in range(len(second.tokenizer))] == \
           [first.tokenizer.id_to_token(i) for i in range(len(first.tokenizer))]

    caplog.clear()
    setup_data(table, tmp_path / "cache", max_len=32)  # another setting: another entry
    with table.open("a", encoding="utf-8") as handle:  # another file content: another entry
        handle.write("999\t새로 넣은 리뷰\t1\n")
    setup_data(table, tmp_path / "cache")
    assert "reused" not in caplog.text
    assert len(list((tmp_path / "cache").iterdir())) == 3


class LowercasingDataModule(NekaDataModule):
    """A DataModule with an argument added later, as a subclass or an edit would add it."""

    def __init__(self, *args, lowercase: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.lowercase = lowercase


def test_every_constructor_argument_is_in_the_key_unless_listed_as_not_changing_the_encoding(tmp_path):
    table = tmp_path / "reviews.csv"
    pd.DataFrame({"document": ["좋다", "별로"], "label": [1, 0]}).to_csv(table, index=False)

    def folder(**options):
        return cache_folder(LowercasingDataModule(str(table), "label", None, cache_dir=str(tmp_path),
                                                  tokenizer_settings=SETTINGS, **options))

    assert folder(lowercase=True) != folder(lowercase=False)
    assert folder(max_len=32) != folder(max_len=64)
    assert folder(batch_size=8, num_workers=1) == folder(batch_size=16, num_workers=0)
    assert set(NOT_IN_KEY) <= set(inspect.signature(NekaDataModule).parameters)  # the list names real arguments


def test_a_tokenizer_replaced_in_the_same_folder_is_not_met_by_the_old_encoding(tmp_path, caplog):
    table = tmp_path / "reviews.tsv"
    pd.read_csv(packaged_data_path("nsmc/train.tsv"), sep="\t").head(300).to_csv(table, sep="\t", index=False)
    texts = pd.read_csv(table, sep="\t")["document"].tolist()
    folder, settings = tmp_path / "encoder", {"kind": "hf", "pretrained": str(tmp_path / "encoder")}

    def setup_with_folder() -> NekaDataModule:
        data = NekaDataModule(str(table), "label", partial(load_tokenizer, **settings), text_columns=["document"],
                              cache_dir=str(tmp_path / "cache"), tokenizer_settings=settings)
        data.setup("fit")
        return data

    train_wordpiece(texts, vocab_size=400, min_frequency=2, lowercase=False).save_pretrained(folder)
    first = setup_with_folder()
    train_wordpiece(texts, vocab_size=2000, min_frequency=2, lowercase=False).save_pretrained(folder)  # same path
    caplog.set_level("INFO", logger="neka.data.encoding_cache")
    second = setup_with_folder()
    assert "reused" not in caplog.text
    assert len(second.tokenizer) > len(first.tokenizer)
    assert not np.array_equal(second.encoded["train"].token_ids, first.encoded["train"].token_ids)
    setup_with_folder()  # the same files again: the second encoding is reused
    assert "reused the encoding cached" in caplog.text


def test_a_hub_tokenizer_is_keyed_by_the_commit_its_name_resolves_to(tmp_path, monkeypatch, offline_hub):
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path))
    assert tokenizer_identity("org/encoder") is None  # offline and not cached: nothing to key by, nothing cached
    refs = tmp_path / "models--org--encoder" / "refs"
    refs.mkdir(parents=True)
    (refs / "main").write_text("1111111")
    first = tokenizer_identity("org/encoder")
    (refs / "main").write_text("2222222")  # the cache now holds a newer commit of the same name
    assert first == "commit:1111111" and tokenizer_identity("org/encoder") == "commit:2222222"
