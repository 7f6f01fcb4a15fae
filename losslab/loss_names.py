"""One name per loss, and the format of a label array: the base of ``losslab.losses`` (which re-exports all
of it), kept apart so that each module stays small.

- ``describe_loss(loss)`` / ``canonical_loss_name(loss)``: a string, a loss class, a loss object or a loss
  function -> one canonical name and its settings (``from_logits``, ``delta``); ``loss_callable(loss)``: the
  loss as compile() calls it.
- ``label_format(y)``: integer class labels, binary 0/1, one-hot rows, soft or multi-label rows, or continuous
  targets.

The grader reads a private copy of this file and of losses.py (losslab/grading/losses.py), so a notebook that
replaces these functions does not change what the grader runs.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from losslab.messages import N_, _

# the kinds of label format (``LabelFormat.kind``): keys the rules compare, shown through ``losslab.shown``
LABEL_KINDS = (N_("binary"), N_("integer"), N_("one-hot"), N_("soft"), N_("multi-label"), N_("continuous"))

# Canonical names are the names of Keras' loss functions. Short aliases are for display only.
SHORT_NAMES = {"mean_squared_error": "mse", "mean_absolute_error": "mae"}
CLASSIFICATION_LOSSES = (
    "binary_crossentropy",
    "categorical_crossentropy",
    "sparse_categorical_crossentropy",
    "binary_focal_crossentropy",
    "categorical_focal_crossentropy",
)
REGRESSION_LOSSES = (
    "mean_squared_error",
    "mean_absolute_error",
    "huber",
    "log_cosh",
    "mean_squared_logarithmic_error",
    "mean_absolute_percentage_error",
)
# What each cross-entropy expects of the labels and of the output layer.
_EXPECTS = {
    "binary_crossentropy": ("0/1 labels, one column per output unit", "sigmoid"),
    "binary_focal_crossentropy": ("0/1 labels, one column per output unit", "sigmoid"),
    "categorical_crossentropy": ("one-hot rows (one column per class)", "softmax"),
    "categorical_focal_crossentropy": ("one-hot rows (one column per class)", "softmax"),
    "sparse_categorical_crossentropy": ("integer class numbers 0 .. K-1 (one number per example)", "softmax"),
}
# Keras' own spelling of a few names it does not register as strings.
_STRING_ALIASES = {
    "huber_loss": "huber",
    "logcosh": "log_cosh",
    "crossentropy": "crossentropy",
    "ce": "crossentropy",
}


# ------------------------------------------------------------------------------------------ loss names


@dataclass(frozen=True)
class LossSpec:
    """What a loss is, whatever way it was written: its canonical name and its settings.

    ``keras`` is False for a loss Keras does not know (a learner's own function); its ``name`` is then the
    function's own name.
    """

    name: str
    from_logits: bool = False
    options: Mapping[str, Any] = field(default_factory=dict)
    keras: bool = True

    @property
    def short(self) -> str:
        """The name as people write it: ``mse`` and ``mae`` for the two long ones."""
        return SHORT_NAMES.get(self.name, self.name)

    @property
    def is_classification(self) -> bool:
        return self.name in CLASSIFICATION_LOSSES

    @property
    def is_regression(self) -> bool:
        return self.name in REGRESSION_LOSSES

    def __str__(self) -> str:
        shown = {k: v for k, v in self.options.items() if k in {"delta", "label_smoothing"} and v not in (0, 0.0)}
        if self.from_logits:
            shown = {"from_logits": True, **shown}
        args = ", ".join(f"{k}={v!r}" for k, v in shown.items())
        return f"{self.short}({args})" if args else self.short


def _keras_functions() -> dict[int, str]:
    import keras

    table = {}
    for name in dir(keras.losses):
        obj = getattr(keras.losses, name)
        if inspect.isfunction(obj) and name not in {"get", "serialize", "deserialize"}:
            table[id(obj)] = obj.__name__
    return table


def _loss_classes() -> dict[type, str]:
    import keras

    table = {}
    for name in dir(keras.losses):
        obj = getattr(keras.losses, name)
        if inspect.isclass(obj) and issubclass(obj, keras.losses.Loss) and obj is not keras.losses.Loss:
            try:
                instance = obj()
            except TypeError:  # needs arguments (none of the common ones do)
                continue
            fn = getattr(instance, "fn", None)
            if fn is not None:
                table[obj] = fn.__name__
    return table


@functools.cache
def _tables() -> tuple[dict[int, str], dict[type, str]]:
    return _keras_functions(), _loss_classes()


def describe_loss(loss: Any) -> LossSpec:
    """A loss given as a string, a class, an object or a function -> ``LossSpec`` (canonical name, settings).

    >>> describe_loss("mse").name, describe_loss(keras.losses.MeanSquaredError()).name
    ('mean_squared_error', 'mean_squared_error')
    >>> describe_loss(keras.losses.SparseCategoricalCrossentropy(from_logits=True)).from_logits
    True

    Raises ValueError for a string Keras does not know, or for something that is not a loss at all.
    """
    import keras

    functions, classes = _tables()
    if isinstance(loss, str):
        text = loss.strip()
        alias = _STRING_ALIASES.get(text.lower())
        if alias == "crossentropy":
            return LossSpec(
                "crossentropy",
                options={"note": "Keras picks binary, sparse or categorical cross-entropy from the labels' shape"},
            )
        try:
            resolved = keras.losses.get(alias or text)
        except ValueError:
            resolved = None
        if resolved is None:
            raise ValueError(
                _(
                    "Keras does not know a loss called {loss!r}. Common ones: 'binary_crossentropy', "
                    "'sparse_categorical_crossentropy', 'categorical_crossentropy', 'mse', 'mae', "
                    "'huber'."
                ).format(loss=loss)
            )
        return describe_loss(resolved)
    if inspect.isclass(loss):
        if issubclass(loss, keras.losses.Loss):
            return describe_loss(loss())
        raise ValueError(_("{name} is a class but not a Keras loss").format(name=loss.__name__))
    if isinstance(loss, functools.partial):
        inner = describe_loss(loss.func)
        options = {**inner.options, **loss.keywords}
        return LossSpec(inner.name, bool(options.get("from_logits", False)), options, inner.keras)
    if isinstance(loss, keras.losses.Loss):
        fn = getattr(loss, "fn", None)
        if fn is None:  # a Loss subclass with its own call(): unknown to us
            return LossSpec(type(loss).__name__, False, {}, keras=False)
        inner = describe_loss(fn)
        options = {**inner.options, **dict(getattr(loss, "_fn_kwargs", {}))}
        return LossSpec(inner.name, bool(options.get("from_logits", False)), options, inner.keras)
    if callable(loss):
        name = functions.get(id(loss))
        if name is not None:
            defaults = {
                k: p.default
                for k, p in inspect.signature(loss).parameters.items()
                if p.default is not inspect.Parameter.empty
            }
            return LossSpec(name, bool(defaults.get("from_logits", False)), defaults)
        return LossSpec(getattr(loss, "__name__", type(loss).__name__), False, {}, keras=False)
    raise ValueError(
        _("a loss should be a string, a keras.losses class or object, or a function; got {kind}").format(
            kind=type(loss).__name__
        )
    )


def canonical_loss_name(loss: Any) -> str:
    """One name per loss: ``"mse"``, ``"MSE"``, ``MeanSquaredError``, ``MeanSquaredError()`` and
    ``keras.losses.mean_squared_error`` all give ``"mean_squared_error"``."""
    return describe_loss(loss).name


def loss_callable(loss: Any):
    """The loss as Keras' compile() would call it: ``fn(y_true, y_pred)`` returning the batch mean.

    Functions are wrapped the way compile() wraps them (labels and predictions brought to the same rank).
    """
    import keras

    if isinstance(loss, str):
        spec = describe_loss(loss)
        if spec.name == "crossentropy":
            raise ValueError(_("'crossentropy' is resolved by Keras from the labels; name the loss explicitly"))
        loss = keras.losses.get(_STRING_ALIASES.get(loss.strip().lower(), loss.strip()))
    elif inspect.isclass(loss):
        loss = loss()
    if isinstance(loss, keras.losses.Loss):
        return loss
    if callable(loss):
        return _FunctionLoss(loss)
    raise ValueError(f"not a loss: {loss!r}")


def _same_rank(y_true: Any, y_pred: Any) -> tuple[Any, Any]:
    """What compile() does before calling a loss function: squeeze or expand a last axis of size 1."""
    import keras

    ops = keras.ops
    if len(y_true.shape) == len(y_pred.shape) + 1 and y_true.shape[-1] == 1:
        return ops.squeeze(y_true, axis=-1), y_pred
    if len(y_pred.shape) == len(y_true.shape) + 1 and y_pred.shape[-1] == 1:
        if len(y_true.shape) == 1:
            return ops.expand_dims(y_true, axis=-1), y_pred
        return y_true, ops.squeeze(y_pred, axis=-1)
    return y_true, y_pred


def _function_loss_class():
    import keras

    class FunctionLoss(keras.losses.Loss):
        """A loss function wrapped the way compile() wraps one (same rank, then the batch mean)."""

        def __init__(self, fn) -> None:
            super().__init__(name=getattr(fn, "__name__", "loss"))
            self.fn = fn

        def call(self, y_true, y_pred):
            return self.fn(*_same_rank(y_true, y_pred))

    return FunctionLoss


def _FunctionLoss(fn):  # builds the class on first use (keras loads lazily)
    return _function_loss_class()(fn)


# ------------------------------------------------------------------------------------------ labels


@dataclass(frozen=True)
class LabelFormat:
    """What a label array looks like to a loss.

    kind: ``"binary"`` (0/1, one per example), ``"integer"`` (class numbers 0..K-1), ``"one-hot"`` (rows with
    a single 1), ``"soft"`` (rows of probabilities summing to 1), ``"multi-label"`` (rows of 0/1, several
    1s allowed) or ``"continuous"`` (regression targets).
    """

    kind: str
    shape: tuple[int, ...]
    n_classes: int | None = None
    description: str = ""

    def __str__(self) -> str:
        return self.description


def _as_array(y: Any) -> np.ndarray:
    if hasattr(y, "numpy") and not isinstance(y, np.ndarray):
        y = y.numpy()
    return np.asarray(y)


def label_format(y: Any) -> LabelFormat:
    """Recognize the label format of ``y`` (see ``LabelFormat``).

    Integer or boolean arrays are class labels. Float arrays are class labels only when they hold few whole
    numbers from 0 (at most 20 different ones); otherwise they are regression targets, such as diabetes'
    disease scores 25-346.
    """
    arr = _as_array(y)
    shape = tuple(int(s) for s in arr.shape)
    if arr.size == 0:
        raise ValueError(_("the labels are empty"))
    if arr.dtype.kind not in "biuf":
        raise ValueError(
            _(
                "labels should be numbers; got dtype {dtype}. Encode class names as 0 .. K-1 "
                "first (for example with sklearn.preprocessing.LabelEncoder)."
            ).format(dtype=arr.dtype)
        )
    values = arr.astype(np.float64)
    if not np.all(np.isfinite(values)):
        raise ValueError(_("the labels contain NaN or infinite values"))
    whole = bool(np.all(values == np.round(values)))
    unique = np.unique(values)
    column = arr.ndim == 1 or (arr.ndim == 2 and shape[1] == 1)
    if arr.ndim == 2 and shape[1] > 1:
        in_01 = bool(np.all((values >= 0) & (values <= 1)))
        sums = values.sum(axis=1)
        rows_sum_to_1 = bool(np.allclose(sums, 1.0, atol=1e-4))
        k = shape[1]
        if in_01 and whole and rows_sum_to_1:
            return LabelFormat(
                "one-hot", shape, k, _("one-hot rows: {n} examples x {k} classes").format(n=shape[0], k=k)
            )
        if in_01 and rows_sum_to_1:
            return LabelFormat(
                "soft", shape, k, _("rows of class probabilities: {n} examples x {k} classes").format(n=shape[0], k=k)
            )
        if in_01 and whole:
            return LabelFormat(
                "multi-label",
                shape,
                k,
                _("0/1 rows with several 1s allowed (multi-label): {n} examples x {k} labels").format(n=shape[0], k=k),
            )
        return LabelFormat(
            "continuous", shape, None, _("real-valued targets, {k} per example (regression)").format(k=k)
        )
    if arr.ndim > 2:
        return LabelFormat("continuous", shape, None, _("an array of shape {shape}").format(shape=shape))
    classes = arr.dtype.kind in "biu" or (whole and unique.min() >= 0 and len(unique) <= 20)
    if column and classes and unique.min() >= 0:
        k = int(unique.max()) + 1
        if set(unique.tolist()) <= {0.0, 1.0}:
            return LabelFormat(
                "binary", shape, 2, _("binary labels 0/1, one per example (shape {shape})").format(shape=shape)
            )
        return LabelFormat(
            "integer",
            shape,
            k,
            _("integer class numbers 0-{last}, one per example (shape {shape}, {k} classes)").format(
                last=k - 1, shape=shape, k=k
            ),
        )
    low, high = float(values.min()), float(values.max())
    return LabelFormat(
        "continuous",
        shape,
        None,
        _("real-valued targets from {low:.4g} to {high:.4g} (shape {shape}): regression").format(
            low=low, high=high, shape=shape
        ),
    )
