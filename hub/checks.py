"""What a student's process may and may not touch on the class hub (``make classroom``, tests/test_hub.py).

Each student runs one Python process as their system user, in the same isolation as their server, that tries to
read or list what belongs to the instructor or to a classmate. Every such attempt must be refused (permission
denied, or absent under ISOLATE=bwrap); the controls (their own fetched notebook, the released assignments)
must work, so that a broken set-up cannot pass for a safe one.
"""

from __future__ import annotations

import json

from hub.site import REPO, State, as_user

WARMUP = "00_warmup/warmup_exercise.ipynb"
PROBE = r"""
import json, os, sys
out = {}
for label, (op, path) in json.loads(sys.argv[1]).items():
    try:
        if op == "list":
            os.listdir(path)
        else:
            with open(path, "rb") as f:
                f.read(1)
        out[label] = "allowed"
    except PermissionError:
        out[label] = "refused"
    except FileNotFoundError:
        out[label] = "absent"
    except OSError as exc:
        out[label] = f"error: {exc}"
print(json.dumps(out))
"""


def attempts(state: State, student: str) -> dict[str, tuple[str, str, bool]]:
    """label: (operation, path, must it be allowed?)."""
    course = state.course
    exchange = state.exchange / state.course_id
    others = [s for s in state.students if s != student]
    tries = {
        "the instructor's gradebook": ("read", course / "autograder" / "gradebook.db", False),
        "the instructor's source (solutions)": (
            "read",
            course / "solutions" / "00_warmup" / "warmup_exercise.ipynb",
            False,
        ),
        "the instructor's home": ("list", state.home(state.instructor), False),
        "the collected submissions": ("list", course / "autograder" / "submitted", False),
        "the exchange's inbound (others' submissions)": ("list", exchange / "inbound", False),
        "the exchange's feedback (others' feedback)": ("list", exchange / "feedback", False),
        "this repository's solutions": ("read", REPO / "solutions" / "00_warmup" / "warmup_exercise.ipynb", False),
        "this repository's hidden tests (tests/)": ("list", REPO / "tests", False),
        "control: the released assignments": ("list", exchange / "outbound" / "00_warmup", True),
    }
    tries["control: own fetched notebook"] = (
        "read",
        state.home(student) / state.course_id / "00_warmup" / "warmup_exercise.ipynb",
        True,
    )
    for other in others:
        tries[f"{other}'s home"] = ("list", state.home(other), False)
        tries[f"{other}'s notebook"] = (
            "read",
            state.home(other) / state.course_id / "00_warmup" / "warmup_exercise.ipynb",
            False,
        )
    return {k: (op, str(path), ok) for k, (op, path, ok) in tries.items()}


def probe(state: State, student: str) -> dict[str, str]:
    tries = attempts(state, student)
    argv = ["python", "-c", PROBE, json.dumps({k: [op, path] for k, (op, path, _) in tries.items()})]
    done = as_user(state, student, argv, timeout=300)
    if done.returncode != 0:
        return {"the probe itself": f"error: {done.stderr.strip()[-400:]}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def cross_checks(state: State) -> list[tuple[str, str]]:
    """(student, problem) for every attempt that went the wrong way."""
    problems = []
    for student in state.students:
        tries, seen = attempts(state, student), probe(state, student)
        for label, outcome in seen.items():
            must_allow = tries.get(label, ("", "", False))[2]
            if must_allow and outcome != "allowed":
                problems.append((student, f"{label}: {outcome}, expected allowed"))
            if not must_allow and outcome not in ("refused", "absent"):
                problems.append((student, f"{label}: {outcome}"))
    return problems
