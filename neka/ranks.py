"""Running as several DDP ranks: what they must share before they can talk to each other (the
vocabulary), and the one way of starting them that a sweep cannot use.

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

from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from pytorch_lightning import Trainer
from pytorch_lightning.strategies.launchers import _SubprocessScriptLauncher
from pytorch_lightning.utilities import rank_zero_only

from neka.errors import NekaError
from neka.tokenizers import NekaTokenizer, load_saved_tokenizer

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


def refuse_relaunch_in_sweep(trainer: Trainer) -> None:
    """Lightning's `ddp` starts ranks 1.. by running the command line again, which under `-m` would
    run the whole sweep again in every rank. SLURM and torchrun start the ranks themselves."""
    launcher = trainer.strategy.launcher
    if (isinstance(launcher, _SubprocessScriptLauncher) and launcher.num_processes > 1
            and not launcher.cluster_environment.creates_processes_externally
            and HydraConfig.initialized() and HydraConfig.get().mode == RunMode.MULTIRUN):
        raise NekaError(f"trainer.strategy=ddp on {launcher.num_processes} devices "
                        "cannot run inside a sweep (-m): it starts its ranks by re-running the command; use "
                        "trainer.devices=1 per job (hydra/launcher=joblib runs jobs side by side), "
                        "trainer.strategy=ddp_spawn, or hydra/launcher=submitit_slurm, where SLURM starts the ranks")
