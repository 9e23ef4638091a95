"""A randomly initialised encoder of each family, saved as its published checkpoints are (with
their pretraining head, so without pooler weights), beside a tokenizer of its kind trained on the
given texts: a folder `model=bert model.pretrained=DIR` loads like a hub checkpoint, offline. The
pooling measurement (`python -m neka.bench.pooling`) and the family tests build theirs here."""

import io
from pathlib import Path

import sentencepiece as spm
from tokenizers import ByteLevelBPETokenizer
from transformers import (
    BertConfig,
    BertForPreTraining,
    BertTokenizer,
    DebertaV2Config,
    DebertaV2ForMaskedLM,
    DebertaV2Tokenizer,
    DistilBertConfig,
    DistilBertForMaskedLM,
    DistilBertModel,
    DistilBertTokenizer,
    ElectraConfig,
    ElectraForPreTraining,
    ElectraTokenizer,
    RobertaConfig,
    RobertaForMaskedLM,
    RobertaTokenizer,
    XLMRobertaConfig,
    XLMRobertaForMaskedLM,
    XLMRobertaTokenizer,
)

from neka.tokenization.kobert import MONOLOGG_MODEL
from neka.tokenization.wordpiece import train_wordpiece

FAMILIES = ("bert", "roberta", "xlm-roberta", "electra", "distilbert", "distilkobert", "deberta-v2")


def sentencepiece_model(texts: list[str], vocab_size: int, **specials) -> spm.SentencePieceProcessor:
    """A unigram model; 0.99 of the characters covered, as Hangul alone has over a thousand."""
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(sentence_iterator=iter(texts), model_writer=model, vocab_size=vocab_size,
                                   character_coverage=0.99, minloglevel=2, num_threads=1, **specials)
    return spm.SentencePieceProcessor(model_proto=model.getvalue())


def unigram_vocab(texts: list[str], vocab_size: int, first: list[str], last: list[str]) -> list[tuple[str, float]]:
    """The unigram model's pieces and scores behind the family's own specials (its own left out)."""
    sp = sentencepiece_model(texts, vocab_size)
    pieces = [(sp.id_to_piece(i), sp.get_score(i)) for i in range(3, sp.get_piece_size())]
    return [(token, 0.0) for token in first] + pieces + [(token, 0.0) for token in last]


def write_kobert_files(folder: Path, texts: list[str], vocab_size: int) -> int:
    """monologg's KoBERT layout: SentencePiece model + vocab.txt, specials at KoBERT's ids."""
    sp = sentencepiece_model(texts, vocab_size, unk_piece="[UNK]", unk_id=0, pad_piece="[PAD]", pad_id=1,
                             bos_piece="[CLS]", bos_id=2, eos_piece="[SEP]", eos_id=3, user_defined_symbols=["[MASK]"])
    (folder / MONOLOGG_MODEL).write_bytes(sp.serialized_model_proto())
    (folder / "vocab.txt").write_text("".join(f"{sp.id_to_piece(i)}\n" for i in range(sp.get_piece_size())),
                                      encoding="utf-8")
    return sp.get_piece_size()


def build_family(family: str, folder: Path, texts: list[str], size: dict, vocab_size: int = 1200,
                 max_positions: int = 512, tokenizer_max_length: int | None = None) -> Path:
    """`size`: hidden_size, num_hidden_layers, num_attention_heads, intermediate_size.
    `max_positions`: tokens the encoder holds (RoBERTa-family tables get 2 more, as published)."""
    folder.mkdir(parents=True)
    distil = {"dim": size["hidden_size"], "n_layers": size["num_hidden_layers"], "n_heads": size["num_attention_heads"],
              "hidden_dim": size["intermediate_size"], "max_position_embeddings": max_positions, "pad_token_id": 1}
    if family == "bert":  # BERT, KoBERT: WordPiece, two token types, a pooler trained with the encoder
        tokenizer = BertTokenizer(vocab=train_wordpiece(texts, vocab_size, 2, False).get_vocab(), do_lower_case=False)
        model = BertForPreTraining(BertConfig(vocab_size=len(tokenizer), pad_token_id=1,
                                              max_position_embeddings=max_positions, **size))
    elif family == "roberta":  # KLUE RoBERTa: byte-level BPE, one token type, positions after the padding id
        bpe = ByteLevelBPETokenizer()
        bpe.train_from_iterator(texts, vocab_size=vocab_size, show_progress=False,
                                special_tokens=["<s>", "<pad>", "</s>", "<unk>", "<mask>"])
        bpe.save_model(str(folder))
        tokenizer = RobertaTokenizer(vocab=str(folder / "vocab.json"), merges=str(folder / "merges.txt"))
        model = RobertaForMaskedLM(RobertaConfig(vocab_size=len(tokenizer), type_vocab_size=1, pad_token_id=1,
                                                 max_position_embeddings=max_positions + 2, **size))
    elif family == "xlm-roberta":  # XLM-R, multilingual-e5: SentencePiece unigram, fairseq's special ids
        tokenizer = XLMRobertaTokenizer(vocab=unigram_vocab(texts, vocab_size, ["<s>", "<pad>", "</s>", "<unk>"],
                                                            ["<mask>"]))
        model = XLMRobertaForMaskedLM(XLMRobertaConfig(vocab_size=len(tokenizer), type_vocab_size=1, pad_token_id=1,
                                                       max_position_embeddings=max_positions + 2, **size))
    elif family == "electra":  # KoELECTRA: WordPiece, the discriminator as published
        tokenizer = ElectraTokenizer(vocab=train_wordpiece(texts, vocab_size, 2, False).get_vocab(),
                                     do_lower_case=False)
        model = ElectraForPreTraining(ElectraConfig(vocab_size=len(tokenizer), embedding_size=size["hidden_size"],
                                                    pad_token_id=1, max_position_embeddings=max_positions, **size))
    elif family == "distilbert":
        tokenizer = DistilBertTokenizer(vocab=train_wordpiece(texts, vocab_size, 2, False).get_vocab(),
                                        do_lower_case=False)
        model = DistilBertForMaskedLM(DistilBertConfig(vocab_size=len(tokenizer), **distil))
    elif family == "distilkobert":  # monologg/distilkobert: KoBERT's tokenizer files beside a DistilBERT encoder
        piece_count = write_kobert_files(folder, texts, vocab_size)
        DistilBertModel(DistilBertConfig(vocab_size=piece_count, **distil)).save_pretrained(folder)
        return folder
    elif family == "deberta-v2":  # DeBERTa-v3: relative positions only, SentencePiece, no pooler
        tokenizer = DebertaV2Tokenizer(vocab=unigram_vocab(texts, vocab_size, ["[PAD]", "[CLS]", "[SEP]", "[UNK]"],
                                                           ["[MASK]"]), unk_id=3)
        model = DebertaV2ForMaskedLM(DebertaV2Config(vocab_size=len(tokenizer), relative_attention=True,
                                                     position_biased_input=False, pos_att_type=["p2c", "c2p"],
                                                     position_buckets=32, type_vocab_size=0,
                                                     max_position_embeddings=max_positions, **size))
    else:
        raise ValueError(f"unknown family {family!r}; one of {FAMILIES}")
    if tokenizer_max_length:
        tokenizer.model_max_length = tokenizer_max_length
    tokenizer.save_pretrained(folder)
    model.save_pretrained(folder)
    return folder
