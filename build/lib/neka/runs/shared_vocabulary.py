"""One vocabulary under DDP: what the ranks must share before they can talk to each other.

Training a WordPiece vocabulary is not reproducible across processes (the tokenizers library
breaks ties between equally frequent pairs in hash order: 1342 and 1343 pieces from the same 160
rows), and ranks with different token ids would train one model on two languages. So only global
rank 0 builds the tokenizer; the other ranks load the copy it saved as `vocab/` in the run folder.
Lightning's own launcher starts them after that copy exists; under torchrun or SLURM, where all
ranks start together, they wait for it.
"""

import time
from collections.abc import Callable
from pathlib import Path

from pytorch_lightning.utilities import rank_zero_only

from neka.tokenization.interface import NekaTokenizer
from neka.tokenization.loading import load_saved_tokenizer

TokenizerFactory = Callable[..., NekaTokenizer]


def share_tokenizer(factory: TokenizerFactory, run_dir: Path, timeout_s: float = 3600.0) -> TokenizerFactory:
    """`factory` itself on rank 0 (Lightning reads the rank from the launcher's environment on import)."""
    if rank_zero_only.rank == 0:
        return factory

    def load_rank_zero_tokenizer(**_: object) -> NekaTokenizer:
        folder = run_dir / "vocab"  # written atomically: present means complete
        deadline = time.monotonic() + timeout_s
        while not folder.is_dir():
            if time.monotonic() > deadline:
                raise TimeoutError(f"rank {rank_zero_only.rank}: rank 0 saved no vocabulary in {folder} "
                                   f"within {timeout_s:.0f} s")
            time.sleep(1.0)
        return load_saved_tokenizer(folder)

    return load_rank_zero_tokenizer
