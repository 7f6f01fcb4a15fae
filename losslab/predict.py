"""Predict, then run: the learner commits to a prediction before an experiment, and the run answers it.

``guess = predict.ask(question, options)`` shows the options (radio buttons, or tick boxes with
``multiple=True``) before the cell that trains. After the training, the notebook computes from the run which
option came true and calls ``guess.compare(measured, values=...)``: it prints the prediction next to the
measured outcome (and the measured value of every option, when given) and freezes the widget.

The question, the options and ``what`` are shown in the learner's language: the notebooks' literal texts are in
the gettext catalog (``losslab.messages.notebook_messages``), and an option keeps its English text as its key
(``choose``, ``compare`` and ``prediction`` use it), so the code is the same in both editions.

Options are shown in a neutral order: by default a fixed shuffle derived from the question's text (the same
on every run, so the order gives nothing away and does not move after a restart); ``order="given"`` keeps a
natural order such as ascending learning rates.

Where no widget front-end answers (nbconvert, a terminal, the test suite) nothing waits for the learner: the
question prints as text, ``guess.choose(...)`` sets a prediction from code, and ``compare`` without a
prediction says "no prediction made" and still shows what the run measured. Everything prints on stdout.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from losslab.messages import _

__all__ = ["Outcome", "Prediction", "ask", "neutral_order"]

NO_PREDICTION = "no prediction made"  # shown through gettext: _(NO_PREDICTION)
_("no prediction made")  # marks it for the catalogue


def neutral_order(question: str, options: Sequence[str]) -> list[str]:
    """The options in a fixed shuffle seeded by the question's text: stable across runs and restarts."""
    seed = int.from_bytes(hashlib.sha256(question.encode("utf-8")).digest()[:8], "big")
    shuffled = list(options)
    random.Random(seed).shuffle(shuffled)
    return shuffled


def _in_kernel() -> bool:
    try:
        from IPython import get_ipython

        return getattr(get_ipython(), "kernel", None) is not None
    except ImportError:
        return False


def _format(value: Any, fmt: str) -> str:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    try:
        return fmt.format(value)
    except (TypeError, ValueError):
        return str(value)


@dataclass(frozen=True)
class Outcome:
    """What ``compare`` found: the prediction (empty when none was made), what the run measured, and a match."""

    prediction: frozenset[str]
    measured: frozenset[str]
    text: str

    def _ipython_display_(self) -> None:
        """Shown as the last line of a cell, an outcome adds nothing: ``compare`` has printed it already."""

    @property
    def made(self) -> bool:
        return bool(self.prediction)

    @property
    def matched(self) -> bool | None:
        """True or False once a prediction was made; None without one."""
        return self.prediction == self.measured if self.made else None


class Prediction:
    """One prediction question. Build it with ``ask``; answer it with the widget or ``choose``."""

    def __init__(
        self,
        question: str,
        options: Sequence[str],
        *,
        multiple: bool = False,
        order: str = "shuffle",
        widget: bool | None = None,
    ) -> None:
        options = [str(o) for o in options]
        if len(options) < 2:
            raise ValueError(_("a prediction needs at least two options, got {options}").format(options=repr(options)))
        if len(set(options)) != len(options):
            raise ValueError(_("the options must differ from each other, got {options}").format(options=repr(options)))
        if order not in ("shuffle", "given"):
            raise ValueError(_("order must be 'shuffle' or 'given', got {order}").format(order=repr(order)))
        self.question, self.multiple = question, multiple
        self.options = neutral_order(question, options) if order == "shuffle" else options
        self._chosen: frozenset[str] = frozenset()
        self.outcome: Outcome | None = None
        self._widgets: Any = None
        if widget if widget is not None else _in_kernel():
            self._build_widgets()

    # ---------------------------------------------------------------- the learner's side
    def _build_widgets(self) -> None:
        import ipywidgets as w

        wide = w.Layout(width="auto")
        if self.multiple:  # each box shows its option in the learner's language; self.options stay the keys
            self._boxes = [w.Checkbox(value=False, description=_(o), indent=False, layout=wide) for o in self.options]
            choice: Any = w.VBox([w.HTML(f"<i>{_('Tick every option you expect.')}</i>"), *self._boxes])
        else:
            self._boxes = []
            choice = w.RadioButtons(options=[(_(o), o) for o in self.options], value=None, layout=wide)
        self._choice = choice
        self._status = w.HTML(f"<i>{_('Choose before you run the experiment below.')}</i>")
        self._widgets = w.VBox(
            [w.HTML(f"<b>{_('Predict:')}</b> {_(self.question)}"), choice, self._status],
            layout=w.Layout(border="1px solid #ddd", padding="6px", margin="6px 0"),
        )

    def choose(self, *options: str) -> Prediction:
        """Set the prediction from code (terminals, tests): ``guess.choose("Adam")``."""
        unknown = [o for o in options if o not in self.options]
        if unknown:
            raise ValueError(
                _("{unknown} is not one of the options: {options}").format(unknown=unknown, options=self.options)
            )
        if not options:
            raise ValueError(_("choose at least one of {options}").format(options=self.options))
        if len(options) > 1 and not self.multiple:
            raise ValueError(_("this question takes one answer; got {got}").format(got=list(options)))
        if self.outcome is not None and self.outcome.made:
            raise ValueError(_("the run has already answered this question; a prediction comes before the run"))
        self._chosen = frozenset(options)
        if self._widgets is not None:
            if self.multiple:
                for option, box in zip(self.options, self._boxes, strict=True):
                    box.value = option in self._chosen
            else:
                self._choice.value = options[0]
        return self

    @property
    def prediction(self) -> frozenset[str]:
        """The options chosen so far (in the widget or with ``choose``); empty when none."""
        if self._widgets is None:
            return self._chosen
        if self.multiple:
            return frozenset(o for o, box in zip(self.options, self._boxes, strict=True) if box.value)
        return frozenset() if self._choice.value is None else frozenset([self._choice.value])

    def text(self) -> str:
        letters = "abcdefghijklmnopqrstuvwxyz"
        lines = [f"{_('Predict:')} {_(self.question)}" + (" " + _("(one or more)") if self.multiple else "")]
        lines += [f"  {letters[i]}) {_(o)}" for i, o in enumerate(self.options)]
        lines.append(
            _("Without widgets, predict with  {call}  before the run.").format(
                call=f"guess.choose({self.options[0]!r})"
            )
        )
        return "\n".join(lines)

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        from html import escape

        data = dict(self._widgets._repr_mimebundle_(**kwargs) or {}) if self._widgets is not None else {}
        data["text/plain"] = self.text()
        data["text/html"] = "<pre>" + escape(self.text()) + "</pre>"
        return data

    # ---------------------------------------------------------------- the run's side
    def compare(
        self,
        measured: str | Iterable[str],
        values: Mapping[str, Any] | None = None,
        *,
        what: str = "",
        fmt: str = "{:.3g}",
    ) -> Outcome:
        """Print the prediction against what the run measured, and freeze the widget.

        ``measured``: the option (or, with ``multiple=True``, the options) that came true, computed from the
        run. ``values``: the measured value behind each option (shown in the options' order), ``what`` names
        it (``"final training loss"``).
        """
        measured_set = frozenset([measured] if isinstance(measured, str) else [str(m) for m in measured])
        unknown = sorted(measured_set - set(self.options))
        if unknown:
            raise ValueError(
                _("measured {measured} is not among the options {options}").format(
                    measured=repr(unknown), options=repr(self.options)
                )
            )
        if len(measured_set) > 1 and not self.multiple:
            raise ValueError(
                _("this question has one answer, but {measured} were measured").format(
                    measured=repr(sorted(measured_set))
                )
            )
        chosen = self.prediction
        shown = lambda names: ", ".join(_(o) for o in self.options if o in names) or _("none of them")  # noqa: E731
        lines = [
            f"{_('Predicted:')} {shown(chosen) if chosen else _(NO_PREDICTION)}",
            f"{_('Measured:')}  {shown(measured_set)}",
        ]
        if values:
            label = f" ({_(what)})" if what else ""
            lines.append(_("What the run measured{label}:").format(label=label))
            lines += [f"  {_(o):<34} {_format(values[o], fmt)}" for o in self.options if o in values]
        if chosen:
            lines.append(
                _("Your prediction matches the run.")
                if chosen == measured_set
                else _("The run differs from your prediction: what in the plot explains the difference?")
            )
        else:
            lines.append(_("(Choose in the widget above and run this cell again to compare.)"))
        text = "\n".join(lines)
        self.outcome = Outcome(chosen, measured_set, text)
        if self._widgets is not None and chosen:
            for control in [self._choice, *self._boxes]:
                control.disabled = True
            self._status.value = f"<i>{_('Locked: the run below answered it.')}</i>"
        print(text)
        return self.outcome


def ask(question: str, options: Sequence[str], *, multiple: bool = False, order: str = "shuffle") -> Prediction:
    """Show a prediction question (a widget in a notebook, text elsewhere) and return it for ``compare``."""
    guess = Prediction(question, options, multiple=multiple, order=order)
    if _in_kernel():
        from IPython.display import display

        display(guess)
    else:
        print(guess.text())
    return guess
