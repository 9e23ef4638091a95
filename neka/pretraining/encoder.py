"""`encoder/` in a pretraining run: the encoder with its MLM head and the tokenizer, as Hugging Face
folders are laid out (save_pretrained), so that `AutoModel`, `AutoTokenizer` and
`python -m neka.train model=bert model.pretrained=<run>/encoder` load it."""

from pathlib import Path

from pytorch_lightning.utilities import rank_zero_only
from transformers import PreTrainedModel

from neka.atomic import atomic_path
from neka.runs.interrupt import shell_quote
from neka.tokenization.interface import NekaTokenizer

ENCODER_DIR = "encoder"


@rank_zero_only
def save_encoder(model: PreTrainedModel, tokenizer: NekaTokenizer, folder: Path) -> None:
    """The head is kept (config.architectures says *ForMaskedLM): AutoModel leaves it out, and a
    further `neka.pretrain model=bert model.pretrained=<run>/encoder` continues with it. The tokenizer's
    files (tokenizer.json, its config naming [CLS] [SEP] [PAD] [MASK] [UNK], vocab.txt) go beside it."""
    with atomic_path(folder, is_folder=True) as staging:
        model.save_pretrained(staging)
        tokenizer.save(staging)


def fine_tune_command(folder: Path, is_from_scratch: bool) -> str:
    """What the summary suggests: neka.train on the embedded sample, with this encoder and its tokenizer.
    An encoder pretrained from scratch is fine-tuned at the from-scratch rate: on the embedded reviews
    (README) model=bert's 5e-5 reached test accuracy 0.736, optimizer=adamw_scratch's 1e-3 0.792."""
    words = ["python", "-m", "neka.train", "model=bert", f"model.pretrained={folder}"]
    return " ".join(shell_quote(word) for word in [*words, *(["optimizer=adamw_scratch"] if is_from_scratch else [])])
