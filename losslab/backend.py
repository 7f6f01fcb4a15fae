"""The backend-specific primitives of the library, in one place: gradients and the JAX state sync.

Keras 3 has no backend-neutral gradient function, so ``gradients`` switches on the backend (TensorFlow's
GradientTape, ``jax.value_and_grad`` on Keras' stateless API, torch's autograd). ``sync`` brings the live weights
of a JAX training back into the model's variables. Used by the training doctor (``losslab.doctor``: its checks,
snapshots and ``TrainingMonitor``) and the clinic's eager validation.
"""

from __future__ import annotations

import keras
import numpy as np

from losslab.messages import _

_JAX_GRADIENTS: dict[int, tuple] = {}


def gradients(model: keras.Model, x: np.ndarray, y: np.ndarray) -> tuple[float, list[np.ndarray]]:
    """The training loss on (x, y) and its gradient for every trainable variable, in training mode.

    Keras 3 has no backend-neutral gradient function, so this switches on the backend. It may update
    BatchNorm statistics (TensorFlow, torch): call it inside ``Snapshot`` when the model must not change.
    """
    backend = keras.backend.backend()
    variables = model.trainable_variables
    if backend == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            y_pred = model(x, training=True)
            loss = model.compute_loss(x=x, y=y, y_pred=y_pred, training=True)
        grads = tape.gradient(loss, [v.value for v in variables])
        grads = [
            np.zeros(v.shape, np.float32) if g is None else np.asarray(g) for g, v in zip(grads, variables, strict=True)
        ]
        return float(loss), grads
    if backend == "jax":
        import jax

        step = _JAX_GRADIENTS.get(id(model))
        if step is None or step[0] is not model:

            def loss_fn(trainable, non_trainable, metrics_vars, x, y):
                y_pred, new_non_trainable = model.stateless_call(trainable, non_trainable, x, training=True)
                loss, _ = model.stateless_compute_loss(
                    trainable, new_non_trainable, metrics_vars, x=x, y=y, y_pred=y_pred, training=True
                )
                return loss

            step = (model, jax.jit(jax.value_and_grad(loss_fn)))
            _JAX_GRADIENTS.clear()  # keep one model's compiled function, not every model's
            _JAX_GRADIENTS[id(model)] = step
        loss, grads = step[1](
            [v.value for v in variables],
            [v.value for v in model.non_trainable_variables],
            [v.value for v in model.metrics_variables],
            x,
            y,
        )
        return float(loss), [np.asarray(g) for g in grads]
    if backend == "torch":  # pragma: no cover - torch is not installed on the course's test machines
        import torch

        values = [v.value for v in variables]
        y_pred = model(x, training=True)
        loss = model.compute_loss(x=x, y=y, y_pred=y_pred, training=True)
        grads = torch.autograd.grad(loss, values, allow_unused=True)
        return float(loss.detach()), [
            np.zeros(v.shape, np.float32) if g is None else g.detach().cpu().numpy()
            for g, v in zip(grads, variables, strict=True)
        ]
    raise NotImplementedError(_("gradients on the {backend} backend are not supported").format(backend=repr(backend)))


def sync(model: keras.Model) -> None:
    """On JAX, fit keeps the live weights outside the model until an epoch ends: bring them back."""
    sync = getattr(model, "jax_state_sync", None)
    if sync is not None and getattr(model, "_jax_state", None):
        sync()
