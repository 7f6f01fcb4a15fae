"""Japanese glyphs in figures: IPAexGothic, from the matplotlib-fontja package, as matplotlib's fallback font.

matplotlib's default font, DejaVu Sans, has no Japanese glyphs: a Japanese title would be drawn as empty boxes.
When losslab is imported and the learner's language (``losslab.messages.current_language``) is not English,
``install()`` adds the font file that matplotlib-fontja ships (a learner dependency in uv.lock) to matplotlib's
font manager and appends its family to ``rcParams["font.family"]``: after the default family, so matplotlib
(3.6 and later falls back glyph by glyph) draws Latin letters, digits and symbols in DejaVu Sans as before and
only the glyphs DejaVu Sans lacks in IPAexGothic. The package itself is never imported: its ``__init__`` would
make IPAexGothic the only font, Latin text included. The font is found with ``importlib.util.find_spec``, which
does not import it.

matplotlib is heavy to import (0.15 to 0.2 s) and a kernel may never draw, so losslab does not import it: the
font is registered when ``matplotlib.font_manager`` is loaded, at once or right after its import
(losslab/after_import.py).
In English nothing is done: no finder, no font, ``rcParams`` untouched.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from types import ModuleType

from losslab import after_import

PACKAGE = "matplotlib_fontja"  # the PyPI package matplotlib-fontja 1.1.0 (IPA Font License v1.0, MIT)
FONT_FILE = os.path.join("fonts", "ipaexg.ttf")
FAMILY = "IPAexGothic"
TRIGGER = "matplotlib.font_manager"


def font_path() -> str | None:
    """The IPAexGothic file matplotlib-fontja installed (None when the package is missing), found without
    importing the package."""
    try:
        spec = importlib.util.find_spec(PACKAGE)
    except (ImportError, ValueError):
        return None
    for folder in (spec.submodule_search_locations or []) if spec is not None else []:
        path = os.path.join(folder, FONT_FILE)
        if os.path.isfile(path):
            return path
    return None


def _families(matplotlib: ModuleType) -> list[str]:
    """``rcParams["font.family"]`` as a list (matplotlib accepts one name or several)."""
    families = matplotlib.rcParams["font.family"]
    return [families] if isinstance(families, str) else list(families)


def register() -> bool:
    """Add IPAexGothic to matplotlib's font manager (once) and after the families of ``font.family``; whether
    the font is there. Imports matplotlib."""
    path = font_path()
    if path is None:
        return False
    import matplotlib

    font_manager = sys.modules.get(TRIGGER) or importlib.import_module(TRIGGER)  # loaded, maybe still unbound
    if not any(entry.fname == path for entry in font_manager.fontManager.ttflist):
        font_manager.fontManager.addfont(path)
    families = _families(matplotlib)
    if FAMILY not in families:
        matplotlib.rcParams["font.family"] = [*families, FAMILY]
    return True


def math_text_properties(text: str) -> dict[str, object]:
    """Keyword arguments for a matplotlib text that mixes mathtext (``$...$``) with Japanese: matplotlib draws the
    non-math part of such a string in one font, the first of its families, with no glyph-by-glyph fallback, so
    the Japanese font must come first there (its Latin letters and digits are drawn with it; the math keeps
    matplotlib's math fonts). Empty for any other text, and when the font is not registered."""
    if "$" not in text or text.isascii():
        return {}
    matplotlib = sys.modules.get("matplotlib")
    if matplotlib is None:
        return {}
    families = _families(matplotlib)
    if FAMILY not in families:
        return {}
    return {"fontfamily": [FAMILY, *(family for family in families if family != FAMILY)]}


def install(lang: str | None = None) -> bool:
    """In a language other than English, register the font now (matplotlib loaded) or when matplotlib loads;
    whether anything was done. English: nothing."""
    if lang is None:
        if not os.environ.get("LOSSLAB_LANG") and not os.environ.get("JPY_SESSION_NAME", "").endswith(".ipynb"):
            return False  # nothing names a language: English (as current_language says), messages not imported
        from losslab.messages import current_language

        lang = current_language()
    if lang == "en" or font_path() is None:
        return False
    return bool(after_import.when_imported(TRIGGER, lambda _module: register()))
