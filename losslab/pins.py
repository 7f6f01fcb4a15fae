"""Read the pinned packages out of environment.yml, with the standard library only.

environment.yml is the single list of pins: Binder builds from it and `make setup` installs from it.
This module runs before anything is installed (``python3 losslab/pins.py environment.yml`` writes a
requirements file), so it must not import losslab's package or any third-party module.
Used by: the Makefile (setup, lock) and tests/test_environment.py.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

_PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[^\s#]+)$")


def normalize(name: str) -> str:
    """PEP 503 normalisation, so `tensorflow_cpu` and `tensorflow-cpu` compare equal."""
    return re.sub(r"[-_.]+", "-", name).lower()


def read_environment(path: str | Path) -> tuple[str, dict[str, str]]:
    """Return (python version, {normalized package name: version}) from an environment.yml.

    Raises ValueError, naming the line, for anything under ``pip:`` that is not an exact pin.
    """
    python = ""
    pins: dict[str, str] = {}
    in_pip = False
    pip_indent = -1
    for number, raw in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.split("#", 1)[0].rstrip()
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip())
        item = line.strip()
        if in_pip and indent <= pip_indent:
            in_pip = False
        if in_pip:
            spec = item[1:].strip() if item.startswith("-") else item
            match = _PIN.match(spec)
            if not match:
                raise ValueError(
                    f"{path}:{number}: {spec!r} is not an exact pin; write name==version "
                    "(no -r lines, no ranges: Binder installs this list as it stands)"
                )
            pins[normalize(match["name"])] = match["version"]
        elif item == "- pip:":
            in_pip, pip_indent = True, indent
        elif re.match(r"- python\b(?!-)", item):
            match = re.fullmatch(r"- python\s*=+\s*([0-9.]+)", item)
            if not match:
                raise ValueError(f"{path}:{number}: pin python as 'python=3.11', not {item!r}")
            python = match.group(1)
    if not python:
        raise ValueError(f"{path}: no python pin found; add '- python=3.11' under dependencies")
    return python, pins


def installed() -> dict[str, str]:
    """{normalized name: version} of what this interpreter's environment holds (editable installs excluded)."""
    import subprocess

    out = subprocess.run(
        [sys.executable, "-m", "pip", "freeze", "--exclude-editable", "--disable-pip-version-check"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    found = {}
    for line in out.splitlines():
        match = _PIN.match(line.strip())
        if match:
            found[normalize(match["name"])] = match["version"]
    return found


def lock(path: str | Path) -> int:
    """Rewrite the pip section of environment.yml with exact pins of what is installed now."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == "- pip:")
    indent = " " * (len(lines[start]) - len(lines[start].lstrip()) + 4)
    end = start + 1
    while end < len(lines) and lines[end].startswith(indent):
        end += 1
    pins = [f"{indent}- {name}=={version}" for name, version in sorted(installed().items())]
    Path(path).write_text("\n".join(lines[: start + 1] + pins + lines[end:]) + "\n", encoding="utf-8")
    print(f"{path}: {len(pins)} pins written")
    return 0


def main(argv: list[str]) -> int:
    if len(argv) > 1 and argv[1] == "lock":
        return lock(argv[2] if len(argv) > 2 else "environment.yml")
    path = argv[1] if len(argv) > 1 else "environment.yml"
    try:
        _, pins = read_environment(path)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for name, version in sorted(pins.items()):
        print(f"{name}=={version}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
