"""Links from a quiz question to the notebook section that teaches its point (losslab/quiz.py shows them).

A question's ``section`` is ``"<folder>/<notebook>.ipynb#<JupyterLab heading anchor>"``, relative to course/ (or,
in a translated edition, course/<lang>/, whose headings the bank's sections are rewritten to).
"""

from __future__ import annotations

import json
import os
from html import escape
from pathlib import Path

from losslab.messages import _, current_language

# Where a question's `section` (e.g. "01_losses/losses_tutorial.ipynb#2.-The-loss-before-training") is found.
COURSE_DIR = Path(__file__).resolve().parent.parent / "course"


def section_title(section: str) -> str:
    """The heading a section anchor stands for: "2.-The-loss" -> "2. The loss"."""
    return section.partition("#")[2].replace("-", " ") or section


def _section_file(section: str, start: Path) -> Path | None:
    path = section.partition("#")[0]
    lang = current_language()
    edition = [COURSE_DIR / lang] if lang != "en" else []
    for base in (start, start.parent, *edition, COURSE_DIR):
        if (base / path).exists():
            return (base / path).resolve()
    return None


def section_href(section: str, start: Path | None = None) -> str:
    """A link to the section from the folder a notebook's kernel runs in (its own folder, in JupyterLab)."""
    start = (start or Path.cwd()).resolve()
    found = _section_file(section, start)
    anchor = section.partition("#")[2]
    return os.path.relpath(found, start) + (f"#{anchor}" if anchor else "") if found else section


def _server_roots() -> list[Path]:
    """The folders the running Jupyter servers serve (the kernel shares their runtime folder)."""
    try:
        from jupyter_server.serverapp import list_running_servers

        return [Path(s["root_dir"]).resolve() for s in list_running_servers() if s.get("root_dir")]
    except Exception:  # no server, or an unreadable runtime file: no in-app link then
        return []


def reread_html(section: str, start: Path | None = None, roots: list[Path] | None = None) -> str:
    """After a wrong answer: the section to read again, as a link JupyterLab opens in the app at the heading.

    The link runs JupyterLab's own command for local links (``rendermime:handle-local-link``, as a link in a
    markdown cell does), which needs the notebook's path on the server; without a server, plain text.
    """
    title = escape(section_title(section))
    found = _section_file(section, (start or Path.cwd()).resolve())
    roots = _server_roots() if roots is None else roots
    serving = sorted((r for r in roots if found and found.is_relative_to(r)), key=lambda r: len(r.parts))
    if not found or not serving:
        return f"<p>{_('Read again:')} <b>{title}</b> ({escape(section.partition('#')[0])})</p>"
    args = {"path": found.relative_to(serving[-1]).as_posix(), "id": "#" + section.partition("#")[2]}
    return (
        f"<p>{_('Read again:')} <a href='#' data-commandlinker-command='rendermime:handle-local-link' "
        f"data-commandlinker-args='{escape(json.dumps(args), quote=True)}'>{title}</a></p>"
    )
