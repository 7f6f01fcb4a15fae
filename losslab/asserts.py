"""A failing visible test of an exercise says what is wrong in the learner's language.

The exercises' test cells are the same code in both editions: nbgrader checksums them, and a Japanese submission
is graded with the English test cells. So ``assert isinstance(probe, keras.Model), "build_model should return a
keras Model"`` keeps its English literal, and the message is translated when the assert fails instead. Every
literal message of a visible assert of a graded or locked cell is in the library's gettext catalog
(``losslab.messages.assert_messages``; an f-string's message as a pattern whose fields carry the values). In a
kernel whose language (``losslab.messages.current_language``) is not English, ``install()``, run when losslab is
imported in IPython, registers an IPython custom exception handler for AssertionError. It shows the error exactly
as IPython would, through the shell's own ``showtraceback``, with the message translated when the catalog knows it
(``losslab.i18n_code.translate_message``) and as raised otherwise. The cell still fails with an AssertionError
error output, so nbgrader scores it as before. In English nothing is installed.

The grader's kernel guard (autograder/kernel_guard.py) removes a custom exception handler a submission installs
and flags it; the guard imports losslab before it takes its snapshot, so in a Japanese grading kernel
(``LOSSLAB_LANG=ja``) this handler is part of what the guard keeps, not a change it reverts.
"""

from __future__ import annotations

import weakref
from typing import Any

from losslab.messages import current_language

_installed: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()  # shell -> the CustomTB we set


def translated_message(value: BaseException, lang: str) -> str | None:
    """The message of `value` in `lang` when it is an AssertionError (not a subclass: the grading checks' errors
    are translated where they are raised) whose message the catalog knows; None when it stays as raised."""
    from losslab.i18n_code import translate_message

    args = value.args
    if type(value) is not AssertionError or len(args) != 1 or not isinstance(args[0], str):
        return None
    text = translate_message(args[0], lang)
    return text if text != args[0] else None


def _show(shell: Any, etype: type, value: BaseException, tb: Any, tb_offset: int | None = None) -> None:
    """IPython's custom exception handler: the error shown by the shell as usual, its message translated."""
    try:
        text = translated_message(value, current_language())
        if text is not None:
            value.args = (text,)  # the exception itself: the error output and the kernel's reply say the same
    except Exception:  # never let a translation hide the learner's error: show it as raised
        pass
    shell.showtraceback((etype, value, tb), tb_offset=tb_offset)


def running_shell() -> Any:
    """The running IPython shell, None outside IPython (losslab never imports IPython itself: only when loaded)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    return get_ipython()


def install(shell: Any = None) -> bool:
    """Register the handler with `shell` (the running IPython by default) when the learner's language is not
    English; whether it is in place. Nothing outside IPython, nothing in English, and a custom exception handler
    someone else registered is left alone."""
    shell = running_shell() if shell is None else shell
    if shell is None or not hasattr(shell, "set_custom_exc"):
        return False
    if shell in _installed and vars(shell).get("CustomTB") is _installed[shell]:
        return True
    if current_language() == "en" or getattr(shell, "custom_exceptions", ()):
        return False
    shell.set_custom_exc((AssertionError,), _show)
    _installed[shell] = vars(shell).get("CustomTB")
    return True
