"""The debugging clinic: one broken training per cause of "the loss won't go down", each with its fix.

Used by solutions/04_debugging/debugging_part{1,2}_tutorial.ipynb (the clinic), by tests/test_doctor.py (the training
doctor must name the planted cause of every case and stay quiet on the healthy baselines), by
tests/test_clinic.py, and by ``make bench`` (tests/tools/bench.py).

A ``Case`` is data: the cause it plants (an id from ``losslab.doctor.CAUSES``), a function building the
broken ``Setup`` (a compiled model, its data and its ``fit`` arguments), one building the fixed setup, the
healthy baseline the doctor must not complain about (usually the fix), and the measurement that tells a
failed training from a working one. Every builder is plain Keras code, short enough to read in the notebook
(``show(case)`` prints the broken and the fixed builder side by side). Each training takes a few seconds on a
2-core CPU: small sklearn datasets, small models, few epochs.

The package: ``datasets`` (the data and ways to spoil it), ``builders`` (the MLP, the loss, InputNorm,
error_rate), ``setup`` (``Setup``), ``patients`` (the broken and fixed builders), ``cases`` (``Case``, keyword
arguments only, and ``CASES``) and ``results`` (``trained``, ``compare``, ``Results``, ``case``, ``show``).
Everything is importable from ``losslab.clinic`` as before.
"""

from __future__ import annotations

from losslab.clinic.builders import (  # noqa: F401
    InputNorm,
    error_rate,
    logits_loss,
    mlp,
)
from losslab.clinic.cases import (  # noqa: F401
    CASES,
    VAL_ACC,
    Case,
    final,
    first_loss_ratio,
    has_validation,
    overfit_ratio,
    repeat_difference,
)
from losslab.clinic.datasets import (  # noqa: F401
    _breast_cancer,
    _digits,
    _many_features,
    _moons,
    _rare_events,
    _split,
    _wine,
    few_examples,
    noisy_labels,
    sensors,
    small_subset,
    with_missing,
)
from losslab.clinic.patients import (  # noqa: F401
    _binary_metrics,
    _binary_mlp,
    _digits_setup,
    _sorted_digits,
    activation_loss_mismatch,
    bad_initialization,
    batch_size,
    batch_size_fixed,
    breast_cancer_baseline,
    class_imbalance,
    class_imbalance_fixed,
    clean_labels,
    constant_loss,
    deep_relu_he,
    digits_baseline,
    digits_sgd,
    exploding_clipped,
    exploding_gradients,
    fresh_model,
    frozen_layers,
    he_initialization,
    label_format,
    label_noise,
    lr_too_high,
    lr_too_low,
    moons_mlp,
    not_reproducible,
    overfitting,
    regularized,
    reproducible,
    reused_model,
    shuffled_split,
    training_flag,
    training_flag_fixed,
    underfitting,
    unfrozen,
    unmonitored,
    unscaled_inputs,
    unshuffled_split,
    vanishing_gradients,
    wine_scaled,
)
from losslab.clinic.results import (  # noqa: F401
    _TRAINED,
    Results,
    _value,
    case,
    compare,
    show,
    trained,
)
from losslab.clinic.setup import (  # noqa: F401
    EagerValidation,
    Setup,
)
