"""model.pooling: what each choice computes, what auto picks, and how export maps each onto the
family's own *ForSequenceClassification."""

import pytest
import torch
from transformers import DistilBertConfig, ElectraConfig, RobertaConfig

from neka.errors import NekaError
from neka.export_heads import build_sequence_classifier
from neka.model.classifier import NekaClassifier

from conftest import OPTIMIZER, SCHEDULER, TINY

HEADS = {"id2label": {0: "0", 1: "1"}, "label2id": {"0": 0, "1": 1}, "problem_type": "single_label_classification"}
ENCODERS = {
    "roberta": RobertaConfig(vocab_size=50, type_vocab_size=1, max_position_embeddings=40, pad_token_id=1, **TINY),
    "electra": ElectraConfig(vocab_size=50, embedding_size=16, pad_token_id=1, **TINY),
    "distilbert": DistilBertConfig(vocab_size=50, dim=32, n_layers=1, n_heads=2, hidden_dim=64, pad_token_id=1),
}


def classifier(pooling: str, **encoder) -> NekaClassifier:
    return NekaClassifier(num_labels=2, vocab_size=50, pad_id=1, optimizer=OPTIMIZER, scheduler=SCHEDULER,
                          pooling=pooling, **(encoder or {"encoder": TINY})).eval()


def test_auto_takes_bert_s_pooler_and_mean_pooling_ignores_padding():
    assert classifier("auto").hparams.pooling == "pooler"
    model = classifier("mean")
    assert model.encoder.pooler is None  # an unused pooler is not kept, nor trained
    ids = torch.tensor([[2, 10, 11, 3]])
    padded = torch.cat([ids, torch.ones(1, 6, dtype=torch.long)], dim=1)
    short = model(ids, torch.tensor([4]), torch.zeros_like(ids))
    assert torch.allclose(short, model(padded, torch.tensor([4]), torch.zeros_like(padded)), atol=1e-5)
    first_token_only = model(torch.tensor([[2, 20, 21, 3]]), torch.tensor([4]), torch.zeros_like(ids))
    assert not torch.allclose(short, first_token_only, atol=1e-4)  # every token counts, not the first alone


def test_pooler_is_refused_where_the_encoder_has_none_and_unknown_choices_are_refused():
    with pytest.raises(NekaError, match="model.pooling=pooler"):
        classifier("pooler", encoder_config=ENCODERS["electra"].to_dict())
    with pytest.raises(NekaError, match="model.pooling: unknown value 'max'"):
        classifier("max")


@pytest.mark.parametrize("family,pooling", [("bert", "cls"), ("bert", "pooler"), ("roberta", "cls"),
                                            ("roberta", "pooler"), ("electra", "cls"), ("distilbert", "cls")])
def test_export_maps_the_head_onto_the_family_s_own_classifier(family, pooling):
    encoder = {"encoder": TINY} if family == "bert" else {"encoder_config": ENCODERS[family].to_dict()}
    model = classifier(pooling, **encoder)
    torch.nn.init.normal_(model.classifier.weight, std=1.0)  # logits far from equal, so a wrong map shows
    exported = build_sequence_classifier(model, HEADS)
    assert type(exported).__name__ == exported.config.architectures[0]
    ids = torch.tensor([[2, 10, 11, 12, 3], [2, 13, 3, 1, 1]])
    valid_length = torch.tensor([5, 3])
    mask = (torch.arange(5)[None, :] < valid_length[:, None]).long()
    expected = model(ids, valid_length, torch.zeros_like(ids))
    assert torch.allclose(exported(input_ids=ids, attention_mask=mask).logits, expected, atol=1e-5)


def test_mean_pooling_is_not_exported():
    with pytest.raises(NekaError, match="model.pooling=mean"):
        build_sequence_classifier(classifier("mean"), HEADS)
