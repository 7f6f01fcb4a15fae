"""When training works but validation does not: overfitting, its remedies, augmentation and transfer learning.

Chapter 4, part 4 uses these helpers:

- ``gap``: train and validation cross-entropy and accuracy of a trained classifier, measured from its predictions
  (so an L2 penalty, which Keras adds to the loss it reports, does not inflate the comparison), and their gap;
- ``digit_images``: the digits as 8x8x1 images in [0, 1], the shape Keras' image preprocessing layers expect;
- ``augmenter``: RandomTranslation and RandomRotation with small factors, active only while training;
- ``class_split``: the examples of some classes only, relabelled 0..k-1 (a "new task" for transfer learning);
- ``image_mlp`` and ``small_convnet``: the part's models (an MLP behind an image input, a two-layer convnet);
- ``transfer_model``: a copy of the feature layers of a trained model, frozen, under a new output layer.

The models themselves are ``losslab.clinic.mlp``; nothing here trains, so each helper is quick to test.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import keras
import numpy as np

from losslab import data
from losslab.messages import _


@dataclass(frozen=True)
class Gap:
    """A trained classifier measured on its training and validation data (cross-entropy in nats)."""

    train_loss: float
    val_loss: float
    train_accuracy: float
    val_accuracy: float

    @property
    def loss_gap(self) -> float:
        """Validation minus training cross-entropy: near 0 when the model generalizes, large when it memorizes."""
        return self.val_loss - self.train_loss

    @property
    def accuracy_gap(self) -> float:
        """Training minus validation accuracy."""
        return self.train_accuracy - self.val_accuracy

    def __str__(self) -> str:
        return _(
            "train loss {train_loss}, val loss {val_loss} (gap {loss_gap}); train acc {train_acc}, val acc {val_acc}"
        ).format(
            train_loss=f"{self.train_loss:.3f}",
            val_loss=f"{self.val_loss:.3f}",
            loss_gap=f"{self.loss_gap:+.3f}",
            train_acc=f"{self.train_accuracy:.3f}",
            val_acc=f"{self.val_accuracy:.3f}",
        )


def _cross_entropy(logits: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Mean cross-entropy (nats) and accuracy of logits against integer labels, computed in NumPy."""
    logits = np.asarray(logits, np.float64)
    y = np.asarray(y).astype(int).reshape(-1)
    if logits.ndim != 2 or len(logits) != len(y):
        raise ValueError(
            _("expected logits of shape (n, classes) for {n} labels, got {shape}").format(n=len(y), shape=logits.shape)
        )
    if y.min() < 0 or y.max() >= logits.shape[1]:
        raise ValueError(
            _("labels must lie in 0..{top} for a model with {outputs} outputs; got {low}..{high}").format(
                top=logits.shape[1] - 1, outputs=logits.shape[1], low=y.min(), high=y.max()
            )
        )
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_probs[np.arange(len(y)), y].mean()
    return float(loss), float((logits.argmax(axis=1) == y).mean())


def gap(model: keras.Model, train: tuple[np.ndarray, np.ndarray], val: tuple[np.ndarray, np.ndarray]) -> Gap:
    """Measure `model` (linear outputs, integer labels) on ``(x, y)`` pairs in inference mode: no Dropout, no
    augmentation, no L2 penalty, so models with and without regularization compare on equal terms."""
    (x_train, y_train), (x_val, y_val) = train, val
    train_loss, train_acc = _cross_entropy(model.predict(x_train, verbose=0), y_train)
    val_loss, val_acc = _cross_entropy(model.predict(x_val, verbose=0), y_val)
    return Gap(train_loss, val_loss, train_acc, val_acc)


def digit_images(split: data.Split | None = None) -> data.Split:
    """The digits as images of shape (8, 8, 1) with pixels in [0, 1] (0 = background).

    Pass an unscaled split (``data.digits(scale=False)``); a standardized one would make shifted-in zeros mean
    "average pixel" instead of "blank", and ``augmenter`` fills with zeros.
    """
    split = split if split is not None else data.digits(scale=False)
    if split.info.get("scaled"):
        raise ValueError(_("digit_images needs raw pixels: pass data.digits(scale=False), not a standardized split"))
    if split.x_train.shape[1:] != (64,):
        raise ValueError(
            _("expected 64 pixel columns (8x8 digits), got shape {shape}").format(shape=split.x_train.shape)
        )

    def images(x: np.ndarray) -> np.ndarray:
        return (x / 16.0).reshape(-1, 8, 8, 1).astype(np.float32)

    info = {**split.info, "images": True}
    return data.Split(
        split.name,
        images(split.x_train),
        images(split.x_val),
        split.y_train,
        split.y_val,
        split.feature_names,
        split.class_names,
        info,
    )


def augmenter(shift: float = 0.1, rotation: float = 0.02, seed: int = 0) -> keras.Sequential:
    """Random shifts (a fraction of the height and width: 0.1 of 8 pixels is up to 0.8 pixel) and rotations
    (a fraction of a full turn: 0.02 is up to about 7 degrees either way), filled with zeros. Keras applies
    them only when ``training=True``, so ``fit`` sees new variants every epoch while ``predict`` and
    ``evaluate`` see the images as they are."""
    if not 0 <= shift < 0.5 or not 0 <= rotation < 0.5:
        raise ValueError(
            _("use small factors: shift and rotation in [0, 0.5), got shift={shift}, rotation={rotation}").format(
                shift=shift, rotation=rotation
            )
        )
    return keras.Sequential(
        [
            keras.layers.RandomTranslation(shift, shift, fill_mode="constant", seed=seed),
            keras.layers.RandomRotation(rotation, fill_mode="constant", seed=seed + 1),
        ],
        name="augmentation",
    )


def image_mlp(
    hidden: Sequence[int],
    n_outputs: int = 10,
    *,
    l2: float = 0.0,
    dropout: float = 0.0,
    augment: keras.Sequential | None = None,
    image_shape: tuple[int, ...] = (8, 8, 1),
) -> keras.Sequential:
    """``clinic.mlp``'s layers (Dense, optional Dropout and L2, linear outputs) behind an image input: an
    optional `augment` block, then Flatten. One flat list of layers, so ``transfer_model`` can cut it."""
    from losslab import clinic

    n_pixels = int(np.prod(image_shape))
    body = clinic.mlp(n_pixels, n_outputs, tuple(hidden), activation="relu", l2=l2, dropout=dropout)
    front = [augment] if augment is not None else []
    return keras.Sequential([keras.Input(shape=image_shape), *front, keras.layers.Flatten(), *body.layers])


def class_split(split: data.Split, classes: Sequence[int]) -> data.Split:
    """Only the examples of `classes`, relabelled 0..len(classes)-1 in the order given: ``[5, 6]`` -> 5 becomes 0."""
    classes = [int(c) for c in classes]
    missing = sorted(set(classes) - set(np.unique(split.y_train).tolist()))
    if missing or len(set(classes)) != len(classes):
        raise ValueError(
            _("classes must be distinct labels of {name}; missing: {missing}, got {classes}").format(
                name=repr(split.name), missing=missing, classes=classes
            )
        )
    lookup = {c: i for i, c in enumerate(classes)}

    def pick(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        keep = np.isin(y, classes)
        return x[keep], np.array([lookup[int(v)] for v in y[keep]], dtype=np.int64)

    x_train, y_train = pick(split.x_train, split.y_train)
    x_val, y_val = pick(split.x_val, split.y_val)
    names = tuple(split.class_names[c] for c in classes) if split.class_names else tuple(map(str, classes))
    return data.Split(
        f"{split.name}[{','.join(map(str, classes))}]",
        x_train,
        x_val,
        y_train,
        y_val,
        split.feature_names,
        names,
        {**split.info, "classes": tuple(classes)},
    )


def small_convnet(n_outputs: int, image_shape: tuple[int, ...] = (8, 8, 1)) -> keras.Sequential:
    """Two small convolutions (16 and 32 filters) with pooling, flattened, and a linear output layer: the
    feature layers are everything but the last layer, which is what ``transfer_model`` reuses."""
    return keras.Sequential(
        [
            keras.Input(shape=image_shape),
            keras.layers.Conv2D(16, 3, padding="same", activation="relu"),
            keras.layers.MaxPooling2D(2),
            keras.layers.Conv2D(32, 3, padding="same", activation="relu"),
            keras.layers.Flatten(),
            keras.layers.Dense(n_outputs),
        ]
    )


def transfer_model(base: keras.Sequential, n_outputs: int, *, freeze: bool = True) -> keras.Sequential:
    """A copy of `base`'s feature layers (every layer but the output layer, with their trained weights), frozen
    when `freeze`, under a fresh ``Dense(n_outputs)`` with linear outputs. `base` itself is left untouched, so
    several new models can start from the same features."""
    if not isinstance(base, keras.Sequential) or len(base.layers) < 2:
        raise ValueError(_("transfer_model needs a trained keras.Sequential with at least one hidden layer"))
    if not base.built:
        raise ValueError(_("transfer_model needs a trained base: build it with keras.Input and fit it first"))
    shape = tuple(base.inputs[0].shape[1:])
    features = keras.Sequential([keras.Input(shape=shape), *base.layers[:-1]])
    copy = keras.models.clone_model(features)
    copy.set_weights(features.get_weights())
    copy.trainable = not freeze
    return keras.Sequential([keras.Input(shape=shape), copy, keras.layers.Dense(n_outputs)])
