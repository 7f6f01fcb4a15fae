"""Japanese glyphs in figures (losslab/fonts.py): in a Japanese process, IPAexGothic (matplotlib-fontja) is
matplotlib's fallback font, Japanese glyphs are drawn with it and Latin ones with DejaVu Sans as before; in English
nothing is registered. Each case runs in a fresh interpreter, as a kernel starts."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from losslab import tfdata
from tests.support import REPO

# Draws a figure with a Japanese title and legend on Agg and reports what matplotlib used. `ink` is the block of
# drawn pixels of one text (cropped to its ink, so that only the glyphs' shapes are compared).
SCRIPT = r"""
import json, os, sys, warnings

if sys.argv[1] == "matplotlib first":
    import matplotlib.pyplot as plt
    import losslab
else:
    import losslab
    import matplotlib.pyplot as plt
import matplotlib
import numpy as np
from matplotlib import font_manager
from matplotlib.font_manager import FontProperties
from losslab import fonts


def ink(text, **props):
    fig = plt.figure(figsize=(3, 1), dpi=50)
    fig.text(0.05, 0.3, text, fontsize=20, **props)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # boxes drawn in DejaVu Sans, on purpose
        fig.canvas.draw()
    drawn = np.asarray(fig.canvas.buffer_rgba())[..., :3].min(axis=2) < 255
    plt.close(fig)
    rows, cols = np.nonzero(drawn)
    return drawn[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]


fig, ax = plt.subplots()
ax.plot([0, 1], [0, 1], label="学習データ (train)")
title = ax.set_title("損失の推移: loss")
ax.legend()
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    fig.canvas.draw()
shipped = fonts.font_path()
ipaex = FontProperties(fname=shipped)
found = font_manager.fontManager._find_fonts_by_props  # the fonts a text is drawn with, fallbacks after the first
print(json.dumps({
    "warnings": [str(w.message) for w in caught],
    "families": list(matplotlib.rcParams["font.family"]),
    "title fonts": [os.path.basename(p) for p in found(title.get_fontproperties())],
    "legend fonts": [os.path.basename(p) for p in found(ax.get_legend().get_texts()[0].get_fontproperties())],
    "registered": any(f.fname == shipped for f in font_manager.fontManager.ttflist),
    "package imported": "matplotlib_fontja" in sys.modules,
    "finders left": [f.name for f in sys.meta_path if type(f).__module__ == "losslab.after_import"],
    "font_manager's loader": type(font_manager.__loader__).__name__,
    "japanese as IPAexGothic": bool(np.array_equal(ink("損失の推移"), ink("損失の推移", fontproperties=ipaex))),
    "japanese as DejaVu Sans": bool(np.array_equal(ink("損失の推移"), ink("損失の推移", family="DejaVu Sans"))),
    "latin as DejaVu Sans": bool(np.array_equal(ink("Loss 0.25"), ink("Loss 0.25", family="DejaVu Sans"))),
    "latin as IPAexGothic": bool(np.array_equal(ink("Loss 0.25"), ink("Loss 0.25", fontproperties=ipaex))),
}))
"""


def _draw(lang: str, order: str) -> dict:
    env = {**os.environ, "LOSSLAB_LANG": lang, "MPLBACKEND": "Agg", "PYTHONPATH": str(REPO)}
    env.pop("JPY_SESSION_NAME", None)
    env.pop(tfdata.ENV, None)  # the grader's tf.data setting waits for TensorFlow with a finder of its own
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, order], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_font_ships_with_the_environment() -> None:
    from losslab import fonts

    path = fonts.font_path()
    assert path is not None and path.endswith("ipaexg.ttf"), (
        "matplotlib-fontja (uv.lock's learner group) is not installed: run `make setup`"
    )
    # the IPA Font License v1.0 asks that its text accompany the font: the package installs it beside the file
    assert os.path.isfile(os.path.join(os.path.dirname(path), "IPA_Font_License_Agreement_v1.0.txt"))


@pytest.mark.parametrize("order", ["losslab first", "matplotlib first"])
def test_a_japanese_process_draws_japanese_glyphs_with_the_shipped_font(order: str) -> None:
    seen = _draw("ja", order)
    missing = [w for w in seen["warnings"] if "missing from font" in w]
    assert not missing, f"Japanese glyphs missing ({order}): {missing}"
    assert seen["registered"] and seen["families"] == ["sans-serif", "IPAexGothic"], seen
    # DejaVu Sans first (Latin text as before), IPAexGothic after it for the glyphs DejaVu Sans lacks
    assert seen["title fonts"] == ["DejaVuSans.ttf", "ipaexg.ttf"] == seen["legend fonts"], seen
    assert seen["japanese as IPAexGothic"] and not seen["japanese as DejaVu Sans"], seen
    assert seen["latin as DejaVu Sans"] and not seen["latin as IPAexGothic"], seen
    # matplotlib-fontja's __init__ would make IPAexGothic the only font: never imported; the finder is gone
    assert not seen["package imported"] and seen["finders left"] == [], seen
    assert seen["font_manager's loader"] == "SourceFileLoader", seen


def test_an_english_process_registers_nothing() -> None:
    seen = _draw("en", "losslab first")
    assert seen["families"] == ["sans-serif"] and not seen["registered"], seen
    assert seen["title fonts"] == ["DejaVuSans.ttf"] and not seen["package imported"], seen
    # the same figure in English: its Japanese glyphs are missing, drawn as boxes in DejaVu Sans
    assert any("missing from font(s) DejaVu Sans" in w for w in seen["warnings"]), seen["warnings"]
    assert seen["japanese as DejaVu Sans"] and seen["latin as DejaVu Sans"], seen


def test_an_english_import_adds_no_finder() -> None:
    """Nothing waits for matplotlib in English: no finder in sys.meta_path after ``import losslab``."""
    env = {**os.environ, "LOSSLAB_LANG": "en", "PYTHONPATH": str(REPO)}
    code = "import losslab.after_import as a; print(a.waiting('matplotlib.font_manager'))"
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == "False", done.stdout + done.stderr
    ja = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env={**env, "LOSSLAB_LANG": "ja"}, capture_output=True, text=True
    )
    assert ja.stdout.strip() == "True", ja.stdout + ja.stderr  # the Japanese one waits for matplotlib


def test_the_library_draws_its_own_labels_in_japanese() -> None:
    """The labels losslab's figure helpers set are translated where they are shown, the keys stay English (the
    sweep's regions), and every glyph is drawn."""
    code = r"""
import json, warnings
import losslab
from losslab import lr, plots

ax = plots.curves({"adam": {"loss": [1.0, 0.5], "val_loss": [1.1, 0.6]}}, title="t")
labels = lr.regions([0.01, 0.1, 1.0], [-0.5, -0.02, -2.3], tolerance=0.01)
sweep = lr.plot_sweep([0.01, 0.1, 1.0], [0.5, 0.02, 2.3], labels, title="s")
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    for figure in {ax.figure, sweep.figure}:
        figure.canvas.draw()
print(json.dumps({
    "regions": labels,
    "curves": [ax.get_xlabel(), *[t.get_text() for t in ax.get_legend().get_texts()]],
    "sweep": [sweep.get_xlabel(), *[t.get_text() for t in sweep.get_legend().get_texts()]],
    "warnings": [str(w.message) for w in caught],
}, ensure_ascii=False))
"""
    env = {**os.environ, "LOSSLAB_LANG": "ja", "MPLBACKEND": "Agg", "PYTHONPATH": str(REPO)}
    env.pop("JPY_SESSION_NAME", None)
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["regions"] == ["too low", "good", "too high"], seen  # the keys the exercise's checks compare
    assert seen["curves"] == ["エポック", "adam (訓練)", "adam (検証)"], seen
    assert seen["sweep"][0] == "学習率 (対数軸)" and {"低すぎる", "良い", "高すぎる", "最終の損失"} <= set(
        seen["sweep"]
    )
    assert not [w for w in seen["warnings"] if "missing from font" in w], seen["warnings"]


def test_a_japanese_title_with_math_draws_its_japanese_with_the_shipped_font() -> None:
    """Inside a mathtext string ($...$) matplotlib draws the text around the math in one font, with no glyph
    fallback: `fonts.math_text_properties` puts IPAexGothic first there, as the optimizer playground's title does
    (losslab.optim.draw); without it the Japanese becomes dummy symbols (matplotlib logs each)."""
    code = r"""
import json, logging
import losslab
import matplotlib.pyplot as plt
from losslab import fonts, optim

logged = []
handler = logging.Handler()
handler.emit = lambda record: logged.append(record.getMessage())
logging.getLogger("matplotlib").addHandler(handler)
title = "引き伸ばされたお椀: $f = 0.1\\,x^2 + 2\\,y^2$"
drawn = {}
for case, props in (("plain", {}), ("with the properties", fonts.math_text_properties(title))):
    logged.clear()
    fig, ax = plt.subplots()
    ax.set_title(title, **props)
    fig.canvas.draw()
    drawn[case] = [m for m in logged if "does not have a glyph" in m]
    plt.close(fig)
s = optim.surface("ill-conditioned quadratic")
logged.clear()
optim.draw(s, optim.race(s, names=["SGD"], steps=5))
plt.gcf().canvas.draw()
drawn["optim.draw"] = [m for m in logged if "does not have a glyph" in m]
print(json.dumps({"drawn": drawn, "english": fonts.math_text_properties("Loss: $f = x^2$"),
                  "no math": fonts.math_text_properties("損失")}))
"""
    env = {**os.environ, "LOSSLAB_LANG": "ja", "MPLBACKEND": "Agg", "PYTHONPATH": str(REPO)}
    env.pop("JPY_SESSION_NAME", None)
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["drawn"]["plain"], seen  # matplotlib's own behavior: what the properties are for
    assert seen["drawn"]["with the properties"] == [] and seen["drawn"]["optim.draw"] == [], seen
    assert seen["english"] == {} and seen["no math"] == {}, seen
