"""What neka must know of an encoder family beyond what `AutoModel` hides: whether it takes
segment ids, how many tokens its positions hold, which attention kernels it has, and the
activation its own Hugging Face classification head puts after the first token's dense layer.
Each fact is read from the encoder's config, so a new checkpoint of a known family needs nothing.
"""

import logging

from transformers import PretrainedConfig
from transformers.models.auto.modeling_auto import MODEL_MAPPING

from neka.errors import NekaError

log = logging.getLogger(__name__)

# Families whose position ids start after the padding index (fairseq's RoBERTa embeddings): 514
# positions with pad id 1 hold 512 tokens.
POSITIONS_AFTER_PADDING = {"roberta", "xlm-roberta", "xlm-roberta-xl", "camembert", "roberta-prelayernorm",
                           "data2vec-text"}

# The activation after the dense layer of each family's *ForSequenceClassification head (BERT's is
# its pooler's tanh; ELECTRA's authors used GELU; DistilBERT's pre_classifier is followed by ReLU).
# DeBERTa names its own in the config (pooler_hidden_act).
HEAD_ACTIVATIONS = {"bert": "tanh", "roberta": "tanh", "xlm-roberta": "tanh", "camembert": "tanh",
                    "electra": "gelu", "distilbert": "relu"}

# A tokenizer without a length of its own reports transformers' VERY_LARGE_INTEGER (1e30)
UNSET_TOKENIZER_LENGTH = 1_000_000


def uses_segment_ids(config: PretrainedConfig) -> bool:
    """Segment ids only where the encoder embeds more than one token type: RoBERTa-family
    checkpoints have type_vocab_size 1 (id 1 is out of range), DistilBERT takes none, DeBERTa-v3
    has 0. There a pair's boundary is carried by its separator tokens alone."""
    return (getattr(config, "type_vocab_size", 0) or 0) > 1


def segment_inputs(config: PretrainedConfig, token_type_ids) -> dict:
    """The encoder's keyword arguments for segment ids: none for encoders without them."""
    return {"token_type_ids": token_type_ids} if uses_segment_ids(config) else {}


def longest_max_len(config: PretrainedConfig, tokenizer=None) -> int:
    """The most tokens per row the encoder takes: its position table, less RoBERTa's offset
    (pad id + 1), and no more than its tokenizer's own model_max_length where one is set."""
    positions = config.max_position_embeddings
    if config.model_type in POSITIONS_AFTER_PADDING:
        positions -= (config.pad_token_id or 0) + 1
    tokenizer_length = getattr(getattr(tokenizer, "backend", None), "model_max_length", None)
    if isinstance(tokenizer_length, int) and tokenizer_length < UNSET_TOKENIZER_LENGTH:
        positions = min(positions, tokenizer_length)
    return positions


def check_max_len(max_len: int, config: PretrainedConfig, tokenizer=None) -> None:
    """data.max_len within the encoder's positions: past them the position embeddings have no row."""
    longest = longest_max_len(config, tokenizer)
    if max_len > longest:
        raise NekaError(f"data.max_len: {max_len} is longer than the encoder's {longest} positions "
                        f"({config.model_type}); set data.max_len={longest} or less")


def head_activation(config: PretrainedConfig) -> str:
    """The name (transformers' ACT2FN) of the activation after the first token's dense layer."""
    if config.model_type in ("deberta", "deberta-v2"):
        return config.pooler_hidden_act
    return HEAD_ACTIVATIONS.get(config.model_type, "tanh")


def attention_implementation(config: PretrainedConfig, requested: str) -> str:
    """`model.attn_implementation=sdpa` on an architecture without an SDPA path (DeBERTa-v2) falls
    back to its eager attention, logged, instead of the ValueError transformers raises. Code a
    checkpoint ships itself (trust_remote_code) is not in transformers' table: asked as given."""
    if requested != "sdpa" or type(config) not in MODEL_MAPPING:
        return requested
    model_class = MODEL_MAPPING[type(config)]
    if getattr(model_class, "_supports_sdpa", True):
        return requested
    log.warning("model.attn_implementation=sdpa: %s has no SDPA attention; using its eager attention",
                model_class.__name__)
    return "eager"
