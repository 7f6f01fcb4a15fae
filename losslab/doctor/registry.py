"""The doctor's checks as a registry: each declares its id, its kind, what it needs and what it provides.

A check is a function of the examination's context, registered with ``@check``::

    @check("my_check", Kind.STATIC, provides=("my_fact",))
    def my_check(ctx: Context) -> None:
        ctx.add("ok", "what was measured")

``needs`` names checks that must run first, and are run even when not asked for, because this one reads the
facts they provide; ``after`` only orders (run after those checks when they run). The run order is derived from
these declarations by a topological sort (ties keep the order of registration), never written by hand.
Static checks read the model and the data (cheap, always run: their findings inform the others); measured
checks train or differentiate the model and are skipped when Keras could not train it at all.
No Keras here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import Enum, StrEnum
from typing import Any


class Kind(Enum):
    """STATIC: reads the model and data only. MEASURED: trains or differentiates the model."""

    STATIC = "static"
    MEASURED = "measured"


class CheckId(StrEnum):
    """The ids of the built-in checks (a ``str``: ``CheckId.CURVES == "curves"``)."""

    TRAINABLE_WEIGHTS = "trainable_weights"
    ACTIVATION_VS_LOSS = "activation_vs_loss"
    LABELS_VS_LOSS = "labels_vs_loss"
    OUTPUT_RANGE = "output_range"
    INPUT_SCALE = "input_scale"
    TARGET_SCALE = "target_scale"
    CLASS_PRIOR = "class_prior"
    DATA_HYGIENE = "data_hygiene"
    TRAINING_BUDGET = "training_budget"
    MONITORING = "monitoring"
    TRAINING_MODE = "training_mode"
    INITIAL_LOSS = "initial_loss"
    GRADIENT_NORMS = "gradient_norms"
    CURVES = "curves"
    UPDATE_RATIO = "update_ratio"
    LABEL_QUALITY = "label_quality"
    LR_SWEEP = "lr_sweep"
    OVERFIT_ONE_BATCH = "overfit_one_batch"
    ZEROED_INPUTS = "zeroed_inputs"
    DETERMINISM = "determinism"
    HISTORY = "history"


# Not a check: the finding that says the measured checks were skipped because Keras cannot train the model.
TRAINING = "training"


@dataclass(frozen=True)
class Check:
    """One registered check. ``on_demand``: run only when asked for (not pulled in as a static check)."""

    id: str
    kind: Kind
    fn: Callable[[Any], None]
    needs: tuple[str, ...] = ()
    after: tuple[str, ...] = ()
    provides: tuple[str, ...] = ()
    on_demand: bool = False


REGISTRY: dict[str, Check] = {}


def check(
    id: str,  # the check's id, as reports show it
    kind: Kind,
    *,
    needs: Iterable[str] = (),
    after: Iterable[str] = (),
    provides: Iterable[str] = (),
    on_demand: bool = False,
) -> Callable[[Callable[[Any], None]], Callable[[Any], None]]:
    """Register the decorated function ``fn(ctx) -> None`` as the check ``id``; returns it unchanged."""
    if not isinstance(kind, Kind):
        raise TypeError(f"kind must be Kind.STATIC or Kind.MEASURED, got {kind!r}")
    if not id or not str(id).isidentifier():
        raise ValueError(f"a check id is a snake_case name, got {id!r}")

    def register(fn: Callable[[Any], None]) -> Callable[[Any], None]:
        if id in REGISTRY and REGISTRY[id].fn.__qualname__ != fn.__qualname__:
            raise ValueError(f"a check {id!r} is already registered ({REGISTRY[id].fn.__qualname__})")
        REGISTRY[str(id)] = Check(
            str(id), kind, fn, tuple(map(str, needs)), tuple(map(str, after)), tuple(provides), on_demand
        )
        return fn

    return register


def unregister(id: str) -> None:
    """Remove a check (tests register toy checks and remove them again)."""
    REGISTRY.pop(id, None)


def closure(wanted: Iterable[str], registry: dict[str, Check] | None = None) -> set[str]:
    """The wanted checks, every static check that is not on demand, and everything they need, recursively."""
    registry = REGISTRY if registry is None else registry
    run = set(wanted) | {c.id for c in registry.values() if c.kind is Kind.STATIC and not c.on_demand}
    stack = list(run)
    while stack:
        for need in registry[stack.pop()].needs:
            if need not in registry:
                raise ValueError(f"a check needs {need!r}, which is not registered; known: {sorted(registry)}")
            if need not in run:
                run.add(need)
                stack.append(need)
    return run


def run_order(run: Iterable[str], registry: dict[str, Check] | None = None) -> list[str]:
    """The checks of ``run`` sorted so that each comes after what it needs (and its ``after`` checks that
    run); ties keep the order of registration. ValueError names a cycle."""
    registry = REGISTRY if registry is None else registry
    run = set(run)
    position = {name: i for i, name in enumerate(registry)}
    unknown = run - set(registry)
    if unknown:
        raise ValueError(f"unknown check(s) {sorted(unknown)}")
    before = {name: {d for d in (*registry[name].needs, *registry[name].after) if d in run} for name in run}
    order: list[str] = []
    while before:
        ready = sorted((n for n, deps in before.items() if not deps), key=position.__getitem__)
        if not ready:
            raise ValueError(f"the checks {sorted(before)} need each other: a cycle in needs/after")
        order.append(ready[0])
        del before[ready[0]]
        for deps in before.values():
            deps.discard(ready[0])
    return order
