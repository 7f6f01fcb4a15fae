"""Optimizers you can watch: 2-D surfaces, trajectories driven by Keras' own optimizers, and a playground.

Used by chapter 2 (solutions/02_optimizers/optimizers_tutorial.ipynb and optimizers_part2_tutorial.ipynb) and its
exercise:

- ``SURFACES``: an ill-conditioned quadratic, Rosenbrock's valley, a saddle and two valleys of different
  depth, each with its gradient written out, a start point and a learning rate that shows its story;
- ``trajectory`` / ``race``: put a point on a surface in a ``keras.Variable`` and let a real
  ``keras.optimizers`` object move it with ``apply_gradients``, so the paths are Keras' update rules, not a
  re-implementation (only the gradient of the surface is computed here, exactly, in NumPy);
- ``draw``: the paths over a contour plot, next to the loss along each path;
- ``Playground``: the same picture with widgets. Its controls have fixed descriptions, ``"surface"``
  (a dropdown), ``"learning rate"`` (a log slider) and ``"momentum"`` (a slider; it sets SGD's ``momentum``
  for the momentum and Nesterov runs). Any change redraws: the figure is an ``ipywidgets.Image`` (CSS class
  ``losslab-playground-figure``) whose PNG is replaced, and the status line below it (CSS class
  ``losslab-playground-status``) counts the draws. Without a live frontend it shows the first drawing as a
  static PNG;
- ``quadratic_path`` / ``diverged`` / ``stable_learning_rate``: gradient descent on f = (curvature / 2) x^2,
  which converges exactly when learning_rate * curvature < 2;
- ``digits_mlp`` / ``train_digits``: the course's 64-64-10 classifier on the digits, trained by any optimizer.
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from losslab import fonts
from losslab.messages import N_, _

OPTIMIZER_NAMES = ("SGD", "momentum", "Nesterov", "RMSprop", "Adam")
COLORS = {"SGD": "C0", "momentum": "C1", "Nesterov": "C2", "RMSprop": "C3", "Adam": "C4"}
# A path whose coordinates leave this box has diverged: it is stopped before numbers overflow.
ESCAPE = 1e4


# ------------------------------------------------------------------------------------------ surfaces


@dataclass(frozen=True)
class Surface:
    """A 2-D loss surface f(x, y) with its exact gradient, a start point and settings that show its story."""

    key: str
    formula: str  # for titles, in matplotlib mathtext
    function: Callable[[Any, Any], Any]  # f(x, y), elementwise on arrays
    gradient: Callable[[float, float], tuple[float, float]]
    start: tuple[float, float]
    minimum: tuple[float, float]  # the global minimum
    xlim: tuple[float, float]
    ylim: tuple[float, float]
    learning_rate: float  # a learning rate at which the optimizers differ in an instructive way
    steps: int
    story: str

    def value(self, point: Sequence[float]) -> float:
        return float(self.function(float(point[0]), float(point[1])))

    def grad(self, point: Sequence[float]) -> np.ndarray:
        return np.array(self.gradient(float(point[0]), float(point[1])), dtype=np.float64)

    @property
    def name(self) -> str:
        """The surface's name in the learner's language (its key is the English name)."""
        return _(self.key)

    @property
    def min_value(self) -> float:
        return self.value(self.minimum)


def _two_valleys_minimum() -> tuple[float, float]:
    # f = (x^2 - 1)^2 + x / 2 + y^2: the deeper valley's bottom solves 4x(x^2 - 1) + 1/2 = 0 near x = -1.
    roots = np.roots([4.0, 0.0, -4.0, 0.5])
    x = float(min(r.real for r in roots if abs(r.imag) < 1e-12))
    return (x, 0.0)


SURFACES: dict[str, Surface] = {
    s.key: s
    for s in (
        Surface(
            key=N_("ill-conditioned quadratic"),
            formula=r"$f = 0.1\,x^2 + 2\,y^2$",
            function=lambda x, y: 0.1 * x**2 + 2.0 * y**2,
            gradient=lambda x, y: (0.2 * x, 4.0 * y),
            start=(-5.0, -2.0),
            minimum=(0.0, 0.0),
            xlim=(-6.0, 2.0),
            ylim=(-3.0, 3.0),
            learning_rate=0.4,
            steps=40,
            story=N_("curvature 0.2 along x and 4 along y: a step that suits y crawls along x"),
        ),
        Surface(
            key=N_("rosenbrock"),
            formula=r"$f = (1 - x)^2 + 100\,(y - x^2)^2$",
            function=lambda x, y: (1.0 - x) ** 2 + 100.0 * (y - x**2) ** 2,
            gradient=lambda x, y: (-2.0 * (1.0 - x) - 400.0 * x * (y - x**2), 200.0 * (y - x**2)),
            start=(-1.2, 1.0),
            minimum=(1.0, 1.0),
            xlim=(-2.0, 2.0),
            ylim=(-1.0, 3.0),
            learning_rate=2e-3,
            steps=80,
            story=N_("a narrow curved valley: easy to fall into, slow to follow to its minimum at (1, 1)"),
        ),
        Surface(
            key=N_("saddle"),
            formula=r"$f = x^2 + y^4/4 - y^2/2$",
            function=lambda x, y: x**2 + y**4 / 4.0 - y**2 / 2.0,
            gradient=lambda x, y: (2.0 * x, y**3 - y),
            start=(1.5, 0.01),
            minimum=(0.0, 1.0),
            xlim=(-2.0, 2.0),
            ylim=(-1.6, 1.6),
            learning_rate=0.05,
            steps=50,
            story=N_("a saddle at the origin, minima at (0, 1) and (0, -1); the start sits almost on the ridge"),
        ),
        Surface(
            key=N_("two valleys"),
            formula=r"$f = (x^2 - 1)^2 + x/2 + y^2$",
            function=lambda x, y: (x**2 - 1.0) ** 2 + 0.5 * x + y**2,
            gradient=lambda x, y: (4.0 * x * (x**2 - 1.0) + 0.5, 2.0 * y),
            start=(2.0, 1.5),
            minimum=_two_valleys_minimum(),
            xlim=(-2.0, 2.3),
            ylim=(-2.0, 2.0),
            learning_rate=0.02,
            steps=60,
            story=N_("a shallow valley near x = 1 (a local minimum) and a deeper one near x = -1"),
        ),
    )
}


def surface(key: str | Surface) -> Surface:
    """A surface by its key: "ill-conditioned quadratic", "rosenbrock", "saddle" or "two valleys"."""
    if isinstance(key, Surface):
        return key
    try:
        return SURFACES[key]
    except KeyError:
        raise KeyError(
            _("no surface {key}; choose one of {known}").format(key=repr(key), known=list(SURFACES))
        ) from None


# ------------------------------------------------------------------------------------------ optimizers


def make_optimizer(name: str, learning_rate: float, momentum: float = 0.9):
    """A fresh Keras optimizer for one of OPTIMIZER_NAMES; `momentum` is used by "momentum" and "Nesterov"."""
    import keras

    opt = keras.optimizers
    makers = {
        "SGD": lambda: opt.SGD(learning_rate=learning_rate),
        "momentum": lambda: opt.SGD(learning_rate=learning_rate, momentum=momentum),
        "Nesterov": lambda: opt.SGD(learning_rate=learning_rate, momentum=momentum, nesterov=True),
        "RMSprop": lambda: opt.RMSprop(learning_rate=learning_rate),
        "Adam": lambda: opt.Adam(learning_rate=learning_rate),
    }
    if name not in makers:
        raise KeyError(_("no optimizer {name}; choose one of {known}").format(name=repr(name), known=list(makers)))
    return makers[name]()


@dataclass(frozen=True)
class Path:
    """Where an optimizer took the point: ``points[t]`` after t steps (``points[0]`` is the start)."""

    name: str
    points: np.ndarray  # shape (steps + 1, 2)
    values: np.ndarray  # f at each point
    diverged: bool

    @property
    def final_value(self) -> float:
        return float(self.values[-1])

    @property
    def steps(self) -> int:
        return len(self.points) - 1


def trajectory(
    surface_or_key: str | Surface,
    optimizer: Any,
    *,
    steps: int | None = None,
    start: Sequence[float] | None = None,
    name: str | None = None,
) -> Path:
    """Let a Keras optimizer move a 2-D ``keras.Variable`` over a surface, one ``apply_gradients`` per step.

    `optimizer` is a ``keras.optimizers.Optimizer`` (it should be fresh: it keeps state per variable).
    A path that leaves a box of +-1e4 is stopped there and marked ``diverged``.
    """
    import keras

    s = surface(surface_or_key)
    steps = s.steps if steps is None else int(steps)
    point = keras.Variable(np.asarray(start if start is not None else s.start, dtype="float32"), name="point")
    points = [np.asarray(keras.ops.convert_to_numpy(point), dtype=np.float64)]
    diverged = False
    for _step in range(steps):
        gradient = s.grad(points[-1])
        optimizer.apply_gradients([(keras.ops.convert_to_tensor(gradient.astype("float32")), point)])
        now = np.asarray(keras.ops.convert_to_numpy(point), dtype=np.float64)
        if not (np.all(np.isfinite(now)) and np.max(np.abs(now)) < ESCAPE):
            diverged = True
            break
        points.append(now)
    array = np.array(points)
    values = np.array([s.value(p) for p in array])
    return Path(name or type(optimizer).__name__, array, values, diverged)


def race(
    surface_or_key: str | Surface,
    learning_rate: float | None = None,
    momentum: float = 0.9,
    names: Iterable[str] = OPTIMIZER_NAMES,
    steps: int | None = None,
) -> dict[str, Path]:
    """The same start, surface and learning rate for several optimizers: {name: Path}."""
    s = surface(surface_or_key)
    lr = s.learning_rate if learning_rate is None else float(learning_rate)
    return {n: trajectory(s, make_optimizer(n, lr, momentum), steps=steps, name=n) for n in names}


# ------------------------------------------------------------------------------------------ drawing


def _grid(s: Surface, n: int = 120) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    xs = np.linspace(*s.xlim, n)
    ys = np.linspace(*s.ylim, n)
    x, y = np.meshgrid(xs, ys)
    return x, y, s.function(x, y)


def draw(
    surface_or_key: str | Surface,
    paths: Mapping[str, Path],
    *,
    title: str | None = None,
    axes: Sequence[Any] | None = None,
):
    """Paths over the surface's contours (left) and f(point) - min f along each path, log scale (right).

    Draws into `axes` (two matplotlib Axes) when given, else into a new pyplot figure; returns the figure.
    """
    s = surface(surface_or_key)
    if axes is None:
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), gridspec_kw={"width_ratios": [1.15, 1]})
    left, right = axes
    fig = left.figure
    x, y, z = _grid(s)
    levels = np.unique(np.quantile(z, np.linspace(0.0, 1.0, 24) ** 2))
    left.contour(x, y, z, levels=levels, colors="0.6", linewidths=0.7, linestyles="solid")
    left.plot(*s.start, marker="o", color="k", markersize=6, label=_("start"))
    left.plot(*s.minimum, marker="*", color="k", markersize=11, linestyle="none", label=_("global minimum"))
    floor = 1e-10
    for index, (name, path) in enumerate(paths.items()):
        color = COLORS.get(name, f"C{index % 10}")
        label = (
            _("{name}: diverged after {steps} steps").format(name=name, steps=path.steps)
            if path.diverged
            else f"{name}: f - min = {path.final_value - s.min_value:.2g}"
        )
        left.plot(
            path.points[:, 0], path.points[:, 1], marker=".", markersize=3, linewidth=1.2, color=color, label=label
        )
        gap = np.maximum(path.values - s.min_value, floor)
        right.plot(
            np.arange(len(gap)),
            gap,
            color=color,
            label=_("{name} (diverged)").format(name=name) if path.diverged else name,
        )
    left.set_xlim(*s.xlim)
    left.set_ylim(*s.ylim)
    left.set_xlabel(_("x (parameter 1, no unit)"))
    left.set_ylabel(_("y (parameter 2, no unit)"))
    heading = title or f"{s.name}: {s.formula}"
    left.set_title(heading, fontsize="medium", **fonts.math_text_properties(heading))
    left.legend(fontsize="x-small", loc="best")
    right.set_yscale("log")
    right.set_xlabel(_("optimizer step"))
    right.set_ylabel(_("f(point) - min f (log scale)"))
    right.set_title(_("Loss along each path"), fontsize="medium")
    right.grid(True, alpha=0.3)
    right.legend(fontsize="x-small")
    fig.tight_layout()
    return fig


def summary(paths: Mapping[str, Path], s: Surface) -> str:
    """One line per optimizer: where it ended and how far above the minimum."""
    parts = []
    for name, path in paths.items():
        if path.diverged:
            parts.append(_("{name}: diverged after {steps} steps").format(name=name, steps=path.steps))
        else:
            parts.append(f"{name}: f - min = {path.final_value - s.min_value:.3g}")
    return "; ".join(parts)


# ------------------------------------------------------------------------------------------ the playground


class Playground:
    """Trajectories of several Keras optimizers on a surface, redrawn whenever a control changes.

    ``Playground()`` draws once at once (so it has a picture even where widgets cannot run); display it as
    the last expression of a cell. Controls (their ``description`` is stable, for people and browser tests, and
    shown in the learner's language):
    ``surface`` (dropdown; picking one also sets the learning rate to that surface's suggestion),
    ``learning rate`` (log slider, 1e-4 to 10), ``momentum`` (0 to 0.99, for the momentum and Nesterov runs).
    Sliders send their value when released (``continuous_update=False``): each redraw runs real optimizers.
    """

    def __init__(
        self,
        surface_key: str = "ill-conditioned quadratic",
        learning_rate: float | None = None,
        momentum: float = 0.9,
        names: Sequence[str] = OPTIMIZER_NAMES,
    ) -> None:
        import ipywidgets as w

        s = surface(surface_key)
        self.names = tuple(names)
        self.draws = 0
        self.paths: dict[str, Path] = {}
        self.png = b""
        # The surfaces are shown in the learner's language; their keys (the values) stay English.
        self.surface = w.Dropdown(options=[(_(k), k) for k in SURFACES], value=s.key, description=_("surface"))
        lr = s.learning_rate if learning_rate is None else learning_rate
        self.learning_rate = w.FloatLogSlider(
            value=lr,
            base=10,
            min=-4,
            max=1,
            step=0.05,
            description=_("learning rate"),
            readout_format=".3g",
            continuous_update=False,
            style={"description_width": "initial"},
        )
        self.momentum = w.FloatSlider(
            value=momentum,
            min=0.0,
            max=0.99,
            step=0.01,
            description=_("momentum"),
            readout_format=".2f",
            continuous_update=False,
        )
        self.image = w.Image(format="png", layout=w.Layout(max_width="100%"))
        self.image.add_class("losslab-playground-figure")
        self.status = w.HTML("")
        self.status.add_class("losslab-playground-status")
        controls = w.HBox([self.surface, self.learning_rate, self.momentum])
        self.widget = w.VBox([controls, self.image, self.status])
        self._holding = False
        self._cache: dict[tuple, Path] = {}
        self.surface.observe(self._on_surface, names="value")
        self.learning_rate.observe(self._on_change, names="value")
        self.momentum.observe(self._on_change, names="value")
        self.redraw()

    def _on_surface(self, change: dict) -> None:
        self._holding = True  # one redraw for the surface and its learning rate, not two
        try:
            self.learning_rate.value = surface(change["new"]).learning_rate
        finally:
            self._holding = False
        self.redraw()

    def _on_change(self, change: dict) -> None:
        if not self._holding:
            self.redraw()

    def _path(self, s: Surface, name: str, lr: float, mu: float) -> Path:
        # Paths that do not depend on the changed control are reused: moving the momentum slider reruns
        # only the momentum and Nesterov optimizers.
        key = (s.key, name, lr, mu if name in ("momentum", "Nesterov") else None)
        if key not in self._cache:
            if len(self._cache) > 500:
                self._cache.clear()
            self._cache[key] = trajectory(s, make_optimizer(name, lr, mu), name=name)
        return self._cache[key]

    def redraw(self) -> None:
        """Run the optimizers with the current settings and replace the figure's PNG."""
        from matplotlib.figure import Figure

        s = surface(self.surface.value)
        lr, mu = float(self.learning_rate.value), float(self.momentum.value)
        self.status.value = _("drawing: learning rate {lr}, momentum {mu} ...").format(lr=f"{lr:.3g}", mu=f"{mu:.2f}")
        self.paths = {name: self._path(s, name, lr, mu) for name in self.names}
        fig = Figure(figsize=(11, 4.2))
        axes = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.15, 1]})
        title = _("{surface}, learning rate {lr}, momentum {mu}: {formula}").format(
            surface=s.name, lr=f"{lr:.3g}", mu=f"{mu:.2f}", formula=s.formula
        )
        draw(s, self.paths, axes=axes, title=title)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=80)
        self.png = buffer.getvalue()
        self.image.value = self.png
        self.draws += 1
        self.status.value = _("draw {n}: learning rate {lr}, momentum {mu}. {summary}").format(
            n=self.draws, lr=f"{lr:.3g}", mu=f"{mu:.2f}", summary=summary(self.paths, s)
        )

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        data = self.widget._repr_mimebundle_(**kwargs) or {}
        data["image/png"] = base64.b64encode(self.png).decode("ascii")
        data["text/plain"] = _("optimizer playground ({surface}): {summary}").format(
            surface=_(self.surface.value), summary=summary(self.paths, surface(self.surface.value))
        )
        return data


def playground(
    surface_key: str = "ill-conditioned quadratic", learning_rate: float | None = None, momentum: float = 0.9
) -> Playground:
    """``losslab.optim.playground("saddle")`` as the last line of a cell shows the widget."""
    return Playground(surface_key, learning_rate, momentum)


# ------------------------------------------------------------------------------------------ f = x^2


def stable_learning_rate(curvature: float) -> float:
    """Gradient descent on (curvature / 2) x^2 multiplies x by (1 - lr * curvature) each step: it converges
    exactly when lr < 2 / curvature."""
    if not curvature > 0:
        raise ValueError(_("curvature must be positive"))
    return 2.0 / curvature


def quadratic_path(
    learning_rate: float,
    curvature: float = 2.0,
    start: float = 1.0,
    steps: int = 20,
    momentum: float = 0.0,
    nesterov: bool = False,
) -> np.ndarray:
    """x_0 .. x_steps for keras.optimizers.SGD on f(x) = (curvature / 2) x^2 (curvature 2 is f = x^2).

    Stops early (shorter array) once |x| passes 1e4. Plain SGD converges for learning_rate * curvature < 2,
    with momentum mu for < 2 (1 + mu), with Nesterov momentum only for < 2 (1 + mu) / (1 + 2 mu).
    """
    import keras

    x = keras.Variable(np.array([start], dtype="float32"), name="x")
    optimizer = keras.optimizers.SGD(learning_rate=learning_rate, momentum=momentum, nesterov=nesterov)
    xs = [float(start)]
    for _step in range(steps):
        gradient = curvature * np.asarray(keras.ops.convert_to_numpy(x), dtype=np.float32)
        optimizer.apply_gradients([(keras.ops.convert_to_tensor(gradient), x)])
        xs.append(float(keras.ops.convert_to_numpy(x)[0]))
        if not (math.isfinite(xs[-1]) and abs(xs[-1]) < ESCAPE):
            break
    return np.array(xs)


def diverged(xs: Sequence[float]) -> bool:
    """True when a run of iterates went off: a non-finite value, or ending farther from 0 than it started."""
    values = np.asarray(xs, dtype=np.float64)
    if values.size < 2:
        return False
    return bool(not np.all(np.isfinite(values)) or abs(values[-1]) > abs(values[0]))


# ------------------------------------------------------------------------------------------ digits


def digits_mlp(n_features: int = 64, n_classes: int = 10):
    """The course's classifier: 64-64 ReLU, linear output (use a loss with from_logits=True)."""
    import keras

    return keras.Sequential(
        [
            keras.Input(shape=(n_features,)),
            keras.layers.Dense(64, activation="relu"),
            keras.layers.Dense(64, activation="relu"),
            keras.layers.Dense(n_classes),
        ],
        name="digits_mlp",
    )


def train_digits(
    optimizer: Any,
    *,
    epochs: int = 20,
    seed: int = 0,
    split: Any = None,
    batch_size: int = 32,
    label: str | None = None,
    progress: bool = True,
):
    """Train a fresh ``digits_mlp`` with `optimizer` (a string or a fresh optimizer object); returns History.

    The seed fixes the initial weights and the shuffling, so two optimizers start from the same weights.
    """
    import keras

    from losslab import data

    split = split if split is not None else data.digits()
    keras.utils.set_random_seed(seed)
    model = digits_mlp(split.n_features, split.n_classes)
    model.compile(
        optimizer=optimizer, loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"]
    )
    callbacks = []
    if progress:
        from losslab.progress import EpochProgress

        callbacks.append(
            EpochProgress(label or str(optimizer if isinstance(optimizer, str) else type(optimizer).__name__))
        )
    return model.fit(
        split.x_train,
        split.y_train,
        validation_data=(split.x_val, split.y_val),
        epochs=epochs,
        batch_size=batch_size,
        verbose=0,
        callbacks=callbacks,
    )
