"""What an exercise's graded or locked cell prints, in the learner's language.

Those cells are the same code in both editions (nbgrader checksums them, and a Japanese submission is graded with
the English cells), so ``print("loss recognized as:", losses.describe_loss(loss))`` keeps its English literal,
and the line is translated when it is printed instead. Every such line is in the library's gettext catalog as a
message with fields (``losslab.messages.print_messages``: ``loss recognized as: {losses.describe_loss(loss)}``).

In a kernel whose language (``losslab.messages.current_language``) is not English, ``install()``, run when losslab
is imported in IPython, binds ``print`` in the notebook's namespace (not in ``builtins``) to ``course_print``:
when a call writes to the standard output and the line it would print (its arguments as text, joined by ``sep``)
is, whole, a message the catalog knows (``losslab.i18n_code.translate_message``), it prints the translation, with
the same ``end`` and ``flush``; any other call, and any error while translating, goes to the built-in ``print``
with the arguments untouched. In English nothing is installed.

Why the namespace and not ``builtins.print``: the grading checks refuse to run when a built-in they rely on is not
the interpreter's own (losslab/grading/integrity.py), and the grader's kernel guard (autograder/kernel_guard.py)
restores and flags a replaced built-in. A name in the notebook's namespace is neither: the library and the checks
still call the built-in, the guard's snapshot (taken after it imports losslab) is unchanged, and the learner's
cells, their functions included, find ``course_print`` first. ``%who`` does not list it.
"""

from __future__ import annotations

import builtins
import sys
from typing import Any

from losslab.messages import current_language

_builtin_print = builtins.print
_ARGUMENTS = frozenset({"sep", "end", "file", "flush"})


def translated_line(args: tuple[Any, ...], sep: Any, lang: str) -> str | None:
    """The line ``print(*args, sep=sep)`` would write, in `lang`, when the catalog knows it; None when it stays
    as it is (no argument is a string, as in every printed line of the catalog, or no message matches)."""
    from losslab.i18n_code import translate_message

    if not any(type(a) is str for a in args):
        return None
    text = (" " if sep is None else sep).join([str(a) for a in args])
    translated = translate_message(text, lang)
    return translated if translated != text else None


def _translating(lang: str) -> Any:
    def course_print(*args: Any, **kwargs: Any) -> None:
        """print, with a line of an exercise's graded cell in the learner's language (losslab/prints.py)."""
        stream = kwargs.get("file")
        if args and kwargs.keys() <= _ARGUMENTS and (stream is None or stream is sys.stdout):
            try:
                text = translated_line(args, kwargs.get("sep"), lang)
            except Exception:  # never let a translation break a learner's print: print as written
                text = None
            if text is not None:
                return _builtin_print(text, end=kwargs.get("end"), file=stream, flush=kwargs.get("flush", False))
        return _builtin_print(*args, **kwargs)

    course_print.__wrapped__ = _builtin_print  # type: ignore[attr-defined]  # help(print) and inspect show print's
    course_print.lang = lang  # type: ignore[attr-defined]
    return course_print


def install(shell: Any = None) -> bool:
    """Bind ``print`` in the namespace of `shell` (the running IPython by default) to ``course_print`` when the
    learner's language is not English; whether it is in place. Nothing outside IPython, nothing in English, and a
    ``print`` the notebook defined itself is left alone."""
    from losslab.asserts import running_shell

    shell = running_shell() if shell is None else shell
    namespace = getattr(shell, "user_ns", None)
    if not isinstance(namespace, dict):
        return False
    current = namespace.get("print")
    if current is not None and getattr(current, "__qualname__", "") == "_translating.<locals>.course_print":
        return True
    lang = current_language()
    if lang == "en" or current is not None:
        return False
    namespace["print"] = _translating(lang)
    hidden = getattr(shell, "user_ns_hidden", None)
    if isinstance(hidden, dict):
        hidden["print"] = namespace["print"]
    return True
