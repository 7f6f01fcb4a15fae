"""The doctor's built-in checks, one module per family; importing this package registers them all.

- ``model``: trainable weights, the training budget, monitoring, training mode;
- ``outputs``: the output activation and the labels against the loss;
- ``data``: input and target scale, class prior, data hygiene;
- ``gradients``: the initial loss, the gradient norms, the update ratio;
- ``training``: the probe's curves, label quality, one batch memorized, zeroed inputs, determinism, history;
- ``rates``: the learning-rate range test.
"""

# Registration order breaks ties in the run order: keep these imports in the order of the families above.
from losslab.doctor.checks import model  # noqa: F401, I001
from losslab.doctor.checks import outputs  # noqa: F401
from losslab.doctor.checks import data  # noqa: F401
from losslab.doctor.checks import gradients  # noqa: F401
from losslab.doctor.checks import training  # noqa: F401
from losslab.doctor.checks import rates  # noqa: F401
