"""A WordPiece vocabulary trained on the training split, for encoders learnt from scratch and
for runs where nothing can be downloaded."""

import logging
from collections.abc import Iterable

from tokenizers import Tokenizer as RustTokenizer
from tokenizers import decoders, models, normalizers, pre_tokenizers, processors, trainers
from transformers import PreTrainedTokenizerFast

log = logging.getLogger(__name__)

SPECIAL_TOKENS = ["[UNK]", "[PAD]", "[CLS]", "[SEP]", "[MASK]"]  # KoBERT's order: UNK 0, PAD 1, CLS 2, SEP 3


def train_wordpiece(texts: Iterable[str], vocab_size: int, min_frequency: int,
                    lowercase: bool) -> PreTrainedTokenizerFast:
    """BERT's WordPiece recipe, with accents kept: stripping them would decompose Hangul
    syllables into jamo."""
    tokenizer = RustTokenizer(models.WordPiece(unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.BertNormalizer(lowercase=lowercase, strip_accents=False)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tokenizer.decoder = decoders.WordPiece()
    # what AutoTokenizer users (an exported model, pipeline()) get; neka's transform adds its own specials
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[(token, SPECIAL_TOKENS.index(token)) for token in ("[CLS]", "[SEP]")])
    trainer = trainers.WordPieceTrainer(vocab_size=vocab_size, min_frequency=min_frequency,
                                        special_tokens=SPECIAL_TOKENS, show_progress=False)
    tokenizer.train_from_iterator(texts, trainer)
    log.info("trained a WordPiece vocabulary of %d pieces on the training split", tokenizer.get_vocab_size())
    return PreTrainedTokenizerFast(tokenizer_object=tokenizer, unk_token="[UNK]", pad_token="[PAD]",
                                   cls_token="[CLS]", sep_token="[SEP]", mask_token="[MASK]",
                                   model_input_names=["input_ids", "token_type_ids", "attention_mask"])
