"""neka's head (pooling -> dropout -> linear) mapped onto each family's own
`*ForSequenceClassification`, so an exported run loads with `AutoModelForSequenceClassification`
and `pipeline()` and gives neka's probabilities.

Every family's Hugging Face head classifies from the first token through a dense layer and an
activation, then a linear layer; neka's `cls` pooling is that dense layer and activation
(neka/model/families.py `HEAD_ACTIVATIONS`), and BERT's pooler is BERT's head. Dropout, placed a
little differently in each head, is off at inference. `mean` pooling has no counterpart in any of
them, so a run trained with it is refused rather than exported with other outputs.
"""

from torch import Tensor
from transformers import AutoConfig, AutoModelForSequenceClassification, PreTrainedModel

from neka.errors import NekaError
from neka.model.classifier import NekaClassifier

# model_type -> (where the dense layer goes, where the linear layer goes, the config key of its dropout),
# the names below the *ForSequenceClassification model
HEADS = {
    "bert": ("bert.pooler.dense", "classifier", "classifier_dropout"),
    "roberta": ("classifier.dense", "classifier.out_proj", "classifier_dropout"),
    "xlm-roberta": ("classifier.dense", "classifier.out_proj", "classifier_dropout"),
    "camembert": ("classifier.dense", "classifier.out_proj", "classifier_dropout"),
    "electra": ("classifier.dense", "classifier.out_proj", "classifier_dropout"),
    "distilbert": ("pre_classifier", "classifier", "seq_classif_dropout"),
    "deberta-v2": ("pooler.dense", "classifier", "cls_dropout"),
}


def build_sequence_classifier(model: NekaClassifier, heads: dict) -> PreTrainedModel:
    """The family's *ForSequenceClassification with the run's encoder and head weights; `heads`
    holds the label settings (num_labels, id2label, label2id, problem_type)."""
    encoder_config = model.encoder.config
    if encoder_config.model_type not in HEADS:
        raise NekaError(f"run_dir: export knows the heads of {sorted(HEADS)}; this run's encoder is a "
                        f"{encoder_config.model_type!r} model")
    pooling = model.hparams.pooling
    if pooling == "mean":
        raise NekaError("run_dir: this run was trained with model.pooling=mean, which no Hugging Face "
                        "*ForSequenceClassification head does (they classify from the first token); export a run "
                        "trained with model.pooling=auto, cls or pooler")
    dense_name, linear_name, dropout_key = HEADS[encoder_config.model_type]
    config = AutoConfig.for_model(**{**encoder_config.to_dict(), **heads, dropout_key: model.hparams.dr_rate})
    exported = AutoModelForSequenceClassification.from_config(config)
    exported.config.architectures = [type(exported).__name__]
    encoder_state = model.encoder.state_dict()
    dense = model.pooling.dense if pooling == "cls" else model.encoder.pooler.dense
    state = {f"{exported.base_model_prefix}.{name}": tensor for name, tensor in encoder_state.items()
             if not name.startswith("pooler.")}
    state.update(prefixed(dense_name, dense.state_dict()))
    # the run's calibration folded in: (W x + b) / T is a linear layer with weights W / T and bias b / T
    scale = model.temperature if model.hparams.task == "classification" else 1.0
    linear = {name: tensor / scale for name, tensor in model.classifier.state_dict().items()}
    state.update(prefixed(linear_name, linear))
    exported.load_state_dict(state, strict=True)
    return exported.eval()


def prefixed(prefix: str, state: dict[str, Tensor]) -> dict[str, Tensor]:
    return {f"{prefix}.{name}": tensor for name, tensor in state.items()}
