"""BERT's masking of a batch: 15 % of the text tokens chosen, of those 80 % replaced by [MASK], 10 %
by a random token, 10 % kept; the loss is on the chosen ones only.

transformers' DataCollatorForLanguageModeling does the choosing (its torch_mask_tokens), on neka's
batches as Collate padded them; neka says which positions it must never choose ([CLS], [SEP],
padding, other specials). The caller passes the random generator, so that a resumed run draws the
masks an uninterrupted one would, and validation draws the same masks every time."""

import torch
from transformers import DataCollatorForLanguageModeling

from neka.errors import NekaError
from neka.tokenization.interface import NekaTokenizer


class TokenMasker:
    def __init__(self, tokenizer: NekaTokenizer, probability: float = 0.15, mask_share: float = 0.8,
                 random_share: float = 0.1):
        backend = getattr(tokenizer, "backend", None)  # KoBERT's tokenizer is no transformers tokenizer
        if backend is None or backend.mask_token is None:
            raise NekaError(f"tokenizer: {tokenizer.name!r} has no [MASK] token, which masked-language pretraining "
                            f"needs; use tokenizer=wordpiece or a BERT-family tokenizer=hf")
        if not 0 < probability < 1:
            raise NekaError(f"mlm.probability: {probability}; use a share of the tokens between 0 and 1, e.g. 0.15")
        try:
            self.collator = DataCollatorForLanguageModeling(backend, mlm_probability=probability,
                                                            mask_replace_prob=mask_share,
                                                            random_replace_prob=random_share)
        except ValueError as error:
            raise NekaError(f"mlm.mask_share, mlm.random_share: {error}") from None
        self.special_ids = torch.tensor(sorted(set(tokenizer.special_tokens.values())))

    def mask(self, batch: dict[str, torch.Tensor], generator: torch.Generator) -> dict[str, torch.Tensor]:
        """The batch with masked `input_ids` and `labels` holding the chosen positions' original ids
        (-100 elsewhere, which the loss and accuracy ignore). On CPU tensors, before the batch moves
        to the device: the collator draws on the CPU."""
        input_ids = batch["input_ids"]
        positions = torch.arange(input_ids.shape[1])
        never = torch.isin(input_ids, self.special_ids) | (positions[None, :] >= batch["valid_length"][:, None])
        self.collator.generator = generator
        masked, labels = self.collator.torch_mask_tokens(input_ids.clone(), never)
        return {**batch, "input_ids": masked, "labels": labels}
