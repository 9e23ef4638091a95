"""neka's Hydra configuration, installed as the package `neka.conf` (see pyproject.toml)."""
