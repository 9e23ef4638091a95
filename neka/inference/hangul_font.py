"""Hangul in every figure neka draws: class names (`긍정`), column names (`학점`) and texts. matplotlib's
default font (DejaVu Sans) has no Hangul glyphs and draws them as empty boxes.

The font is NanumGothic (SIL Open Font Licence), from the PyPI package koreanize-matplotlib, found
on disk without importing that package: its import runs `distutils`, which Python 3.12 removed.
"""

import importlib.util
import logging
from pathlib import Path

import matplotlib
from matplotlib import font_manager

log = logging.getLogger(__name__)

FONT_PACKAGE, FONT_FILE, FONT_NAME = "koreanize_matplotlib", "fonts/NanumGothic.ttf", "NanumGothic"


def use_hangul_font() -> bool:
    """Registers NanumGothic and puts it first, with matplotlib's default after it for what it lacks.
    False (figures still drawn, Hangul as boxes) where the package is missing."""
    spec = importlib.util.find_spec(FONT_PACKAGE)
    path = Path(spec.submodule_search_locations[0]) / FONT_FILE if spec and spec.submodule_search_locations else None
    if path is None or not path.is_file():
        log.warning("no Hangul font: pip install koreanize-matplotlib, or Korean names draw as boxes in figures")
        return False
    if FONT_NAME not in {font.name for font in font_manager.fontManager.ttflist}:
        font_manager.fontManager.addfont(str(path))
    matplotlib.rcParams["font.family"] = [FONT_NAME, "DejaVu Sans"]
    matplotlib.rcParams["axes.unicode_minus"] = False  # NanumGothic lacks the Unicode minus sign
    return True
