"""KoBERT's tokenizer on both published layouts, built offline from a SentencePiece model
trained on the shipped Korean reviews (8,002 pieces with the specials, as KoBERT's)."""

import io
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
import sentencepiece as spm

from neka.cli.resolvers import packaged_data_path
from neka.errors import NekaError
from neka.model.classifier import build_encoder
from neka.tokenization.kobert import MONOLOGG_MODEL, SKT_MODEL, KoBertTokenizer
from neka.tokenization.loading import load_kobert, load_saved_tokenizer, load_tokenizer

from conftest import assert_matches_gluonnlp, assert_user_error, run_in_process, shared_data_file

TINY_ENCODER = {"num_hidden_layers": 1, "hidden_size": 64, "num_attention_heads": 2, "intermediate_size": 128}


def train_kobert_like_model(texts: list[str]) -> bytes:
    """Specials at KoBERT's ids: [UNK] 0, [PAD] 1, [CLS] 2, [SEP] 3, [MASK] 4."""
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(sentence_iterator=iter(texts), model_writer=model, vocab_size=8002,
                                   unk_piece="[UNK]", unk_id=0, pad_piece="[PAD]", pad_id=1, bos_piece="[CLS]",
                                   bos_id=2, eos_piece="[SEP]", eos_id=3, user_defined_symbols=["[MASK]"],
                                   character_coverage=0.9995, minloglevel=2, num_threads=1)
    return model.getvalue()


def write_layouts(root: Path, model: bytes) -> dict[str, Path]:
    """The same model as monologg/kobert and as skt/kobert-base-v1 publish it, each beside an encoder."""
    sp = spm.SentencePieceProcessor(model_proto=model)
    pieces = [sp.id_to_piece(i) for i in range(sp.get_piece_size())]
    monologg, skt = root / "monologg", root / "skt"
    for folder in (monologg, skt):
        folder.mkdir()
        build_encoder(None, TINY_ENCODER, vocab_size=len(pieces), pad_id=1).save_pretrained(folder)
    (monologg / MONOLOGG_MODEL).write_bytes(model)
    (monologg / "vocab.txt").write_text("".join(f"{p}\n" for p in pieces), encoding="utf-8")
    (skt / SKT_MODEL).write_bytes(model)
    return {"monologg": monologg, "skt": skt}


@pytest.fixture(scope="module")
def layouts(tmp_path_factory) -> dict[str, Path]:
    texts = pd.read_csv(packaged_data_path("nsmc/train.tsv"), sep="\t")["document"].tolist()
    return write_layouts(tmp_path_factory.mktemp("kobert"), train_kobert_like_model(texts))


@pytest.fixture(scope="module")
def real_rows() -> list[str]:
    """Held-out real Korean text: hate-speech comments (not the SentencePiece training text)."""
    return pd.read_csv(shared_data_file("korean_hate_speech", "train.tsv"), sep="\t")["comments"].head(400).tolist()


def test_both_layouts_load_with_kobert_special_ids(layouts):
    for layout, folder in layouts.items():
        tokenizer = KoBertTokenizer(folder)
        assert tokenizer.layout == layout and len(tokenizer) == 8002
        assert tokenizer.special_tokens == {"[UNK]": 0, "[PAD]": 1, "[CLS]": 2, "[SEP]": 3, "[MASK]": 4}


def test_layouts_agree_and_keep_hangul_syllables(layouts, real_rows):
    monologg, skt = KoBertTokenizer(layouts["monologg"]), KoBertTokenizer(layouts["skt"])
    assert monologg.encode_batch(real_rows) == skt.encode_batch(real_rows)
    pieces = monologg.tokenize("한국어 모델을 공유합니다.")
    assert "".join(pieces).replace("▁", "") == "한국어모델을공유합니다."  # NFKD jamo recomposed by the model


def test_monologg_ids_come_from_vocab_txt(layouts, tmp_path):
    folder = tmp_path / "reordered"
    shutil.copytree(layouts["monologg"], folder)
    lines = (folder / "vocab.txt").read_text(encoding="utf-8").splitlines()
    lines[10], lines[11] = lines[11], lines[10]
    (folder / "vocab.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    reordered, original = KoBertTokenizer(folder), KoBertTokenizer(layouts["monologg"])
    assert reordered.token_to_id(lines[10]) == 10 == original.token_to_id(lines[11])


def test_xlnet_preprocessing_rules(layouts):
    tokenizer = KoBertTokenizer(layouts["skt"])
    assert tokenizer.tokenize("  영화   최고  ") == tokenizer.tokenize("영화 최고")
    assert tokenizer.tokenize("``인용''") == tokenizer.tokenize('"인용"')
    assert tokenizer.tokenize("café") == tokenizer.tokenize("cafe")  # accents removed
    pieces = tokenizer.tokenize("1,000원 3,4화")
    assert pieces[pieces.index(",") - 1].endswith(("1", "3")) and pieces.count(",") == 2  # digit-comma rule
    assert tokenizer.encode_batch(["영화 [SEP] 최고"])[0][tokenizer.tokenize("영화 [SEP] 최고").index("[SEP]")] == 3


@pytest.mark.parametrize("max_len", [16, 64])
def test_single_sentences_match_gluonnlp(layouts, real_rows, max_len):
    assert_matches_gluonnlp(KoBertTokenizer(layouts["monologg"]), [real_rows], max_len)


@pytest.mark.parametrize("max_len", [16, 64])
def test_sentence_pairs_match_gluonnlp(layouts, real_rows, max_len):
    batch = assert_matches_gluonnlp(KoBertTokenizer(layouts["skt"]), [real_rows[0::2], real_rows[1::2]], max_len)
    assert batch["token_type_ids"].sum() > 0


def test_saved_tokenizer_reloads_as_the_same_layout(layouts, real_rows, tmp_path):
    for layout, folder in layouts.items():
        original = load_tokenizer("kobert", pretrained=str(folder))
        original.save(tmp_path / layout)
        reloaded = load_saved_tokenizer(tmp_path / layout)
        assert isinstance(reloaded, KoBertTokenizer) and reloaded.layout == layout
        assert reloaded.encode_batch(real_rows[:50]) == original.encode_batch(real_rows[:50])
        assert json.loads((tmp_path / layout / "neka_tokenizer.json").read_text())["kind"] == "kobert"


def test_vocab_command_reads_a_kobert_folder(layouts, tmp_path):
    result = run_in_process(str(layouts["skt"]), "--token", "[SEP]", "--count", "3", cwd=tmp_path,
                            module="neka.vocab")
    assert result.returncode == 0, result.stderr
    assert "size: 8002" in result.stdout and "token_to_idx['[SEP]'] = 3" in result.stdout
    assert result.stdout.splitlines()[-3:] == ["      0  [UNK]", "      1  [PAD]", "      2  [CLS]"]


def test_folder_without_either_layout_is_refused(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(NekaError, match=r"has neither KoBERT layout.*found \['config.json'\]"):
        load_tokenizer("kobert", pretrained=str(tmp_path))


def test_vocab_txt_of_another_size_is_refused(layouts, tmp_path):
    folder = tmp_path / "short"
    shutil.copytree(layouts["monologg"], folder)
    lines = (folder / "vocab.txt").read_text(encoding="utf-8").splitlines()
    (folder / "vocab.txt").write_text("\n".join(lines[:8000]) + "\n", encoding="utf-8")
    with pytest.raises(NekaError, match="vocab.txt has 8000 entries but tokenizer_78b3253a26.model has 8002"):
        KoBertTokenizer(folder)


def test_real_kobert_known_answer():
    """KoBERT's published ids, where the real files are in the Hugging Face cache."""
    try:
        tokenizer = load_kobert("monologg/kobert", local_files_only=True)
    except OSError:
        pytest.skip("monologg/kobert is not in the local Hugging Face cache")
    ids = tokenizer.encode_batch(["한국어 모델을 공유합니다."])[0]
    assert [tokenizer.cls_id, *ids, tokenizer.sep_id] == [2, 4958, 6855, 2046, 7088, 1050, 7843, 54, 3]


@pytest.mark.parametrize("layout", ["monologg", "skt"])
def test_kobert_experiment_trains_end_to_end_offline(layouts, layout, tmp_path):
    folder = layouts[layout]
    result = run_in_process("+experiment=kobert", f"model.pretrained={folder}", f"tokenizer.pretrained={folder}",
                            "data.max_rows=300", "trainer.max_epochs=1", "hydra.run.dir=run", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    run_dir = tmp_path / "run"
    evaluated = run_in_process(f"run_dir={run_dir}", cwd=tmp_path, module="neka.evaluate")  # through the saved vocab/
    assert evaluated.returncode == 0, evaluated.stderr[-2000:]
    trained, scored = (json.loads((run_dir / name).read_text()) for name in ("metrics.json", "eval/metrics.json"))
    assert scored["test_acc"] == pytest.approx(trained["test_acc"], abs=1e-6)
    assert scored["test_ce"] == pytest.approx(trained["test_ce"], rel=1e-4)  # the ids training saw, to the logit
    assert json.loads((run_dir / "vocab" / "neka_tokenizer.json").read_text())["layout"] == layout
    log = (run_dir / "train.log").read_text()
    assert "sample 0: [CLS] ▁" in log and "[UNK] share" in log
    vocab = run_in_process(str(run_dir), "--count", "6", cwd=tmp_path, module="neka.vocab")
    assert "size: 8002" in vocab.stdout and "[MASK]=4" in vocab.stdout and vocab.stdout.splitlines()[-1].split() == [
        "5", "▁"]
    exported = run_in_process(f"run_dir={run_dir}", f"out={tmp_path / 'hf'}", cwd=tmp_path, module="neka.export")
    assert exported.returncode == 0, exported.stderr[-2000:]
    reloaded = load_saved_tokenizer(tmp_path / "hf")  # the export carries KoBERT's files for neka
    assert isinstance(reloaded, KoBertTokenizer) and reloaded.layout == layout


def test_wrong_vocabulary_stops_before_training(layouts, tmp_path):
    """A vocab.txt that does not belong to the SentencePiece model: nearly every piece is [UNK]."""
    folder = tmp_path / "mismatched"
    shutil.copytree(layouts["monologg"], folder)
    lines = (folder / "vocab.txt").read_text(encoding="utf-8").splitlines()
    (folder / "vocab.txt").write_text("\n".join(lines[:5] + [f"other{i}" for i in range(5, len(lines))]) + "\n",
                                      encoding="utf-8")
    result = run_in_process("+experiment=kobert", f"model.pretrained={folder}", "data.max_rows=300",
                            "hydra.run.dir=run", cwd=tmp_path)
    assert_user_error(result, "data.max_unk_share", "[UNK]", "tokenizer.pretrained")
    assert not (tmp_path / "run" / "checkpoints").exists()


def test_encoder_smaller_than_the_vocabulary_is_refused(layouts, tmp_path):
    folder = tmp_path / "small-encoder"
    shutil.copytree(layouts["skt"], folder)
    build_encoder(None, TINY_ENCODER, vocab_size=8000, pad_id=1).save_pretrained(folder)
    result = run_in_process("+experiment=kobert", f"model.pretrained={folder}", "data.max_rows=300",
                            "hydra.run.dir=run", cwd=tmp_path)
    assert_user_error(result, "embeds 8000 tokens but the tokenizer has 8002")
