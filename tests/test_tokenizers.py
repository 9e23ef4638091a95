import pytest

from neka.errors import NekaError
from neka.hub import load_pretrained
from neka.tokenizers import load_saved_tokenizer, load_tokenizer

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


def test_unreachable_hub_name_fails_fast_with_what_to_do():
    with pytest.raises(NekaError, match=r"model.pretrained='neka-tests/no-such-model'.*set model.pretrained=DIR"
                                        r"|cannot load it from the hub"):
        load_pretrained(lambda name, **kwargs: (_ for _ in ()).throw(OSError("not found")),
                        "neka-tests/no-such-model", "model.pretrained")
