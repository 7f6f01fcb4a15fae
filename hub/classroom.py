"""A whole class, headless, on a fresh hub (``make classroom``): release, fetch, submit, collect, grade, late
penalty, feedback; a table per student; exit status 0 only when every row is what the policy says.

The students act through their own single-user servers, as the Assignment List does (nbgrader's
``/assignments``, ``/assignments/fetch``, ``/assignments/submit``, ``/assignments/fetch_feedback`` handlers and
Jupyter's contents API, through the hub's proxy, with the hub's API token); the instructor runs nbgrader's
commands and ``python -m autograder.grade`` (the sandboxed grader of ``make grade``) as their system user in
their copy of the course. The class (hub/roster.example.csv):

- ada answers with the solutions, submits the warm-up on time and chapter 1 after its due date;
- ben fetches and submits both assignments blank;
- cleo submits the warm-up twice (blank, then half right: the later one counts) and chapter 1 half right.

Then each student fetches their feedback and tries to fetch, list or read what is not theirs (hub/checks.py).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import re
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from hub.site import HUB, REPO, HubError, State, as_user, down, up

ASSIGNMENTS = ["00_warmup", "01_losses"]
UTC = dt.UTC
DAY = dt.timedelta(days=1)


@dataclass
class Row:
    student: str
    assignment: str
    fetched: bool = False
    submissions: int = 0
    seconds_late: float = 0.0
    before: float | None = None
    penalty: float | None = None
    after: float | None = None
    max_score: float = 0.0
    feedback: bool = False
    problems: list[str] = field(default_factory=list)


class Hub:
    """The hub's REST API and each user's server, with the classroom service's token."""

    def __init__(self, state: State) -> None:
        self.state = state

    def call(self, method: str, path: str, body: dict | None = None, *, form: dict | None = None) -> dict:
        data, headers = None, {"Authorization": f"token {self.state.service_token}"}
        if body is not None:
            data, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        request = urllib.request.Request(self.state.url + path, data=data, method=method, headers=headers)
        with urllib.request.urlopen(request, timeout=600) as reply:
            text = reply.read().decode()
        return json.loads(text) if text.strip() else {}

    def start_server(self, user: str, timeout: float = 300) -> None:
        try:
            self.call("POST", f"/hub/api/users/{user}/server")
        except urllib.error.HTTPError as exc:
            if exc.code != 400:  # 400: already running
                raise
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            server = self.call("GET", f"/hub/api/users/{user}")["servers"].get("", {})
            if server.get("ready"):
                return
            time.sleep(2)
        raise HubError(f"{user}'s server did not start in {timeout:.0f} s (see {self.state.root}/jupyterhub.log)")

    def nbgrader(self, user: str, action: str, assignment: str | None = None) -> list[dict]:
        """One of the Assignment List's actions on `user`'s server: list, fetch, submit, fetch_feedback."""
        path = f"/user/{user}/assignments" + ("" if action == "list" else f"/{action}")
        form = {"course_id": self.state.course_id}
        if assignment:
            form["assignment_id"] = assignment
        if action == "list":
            reply = self.call("GET", path + "?" + urllib.parse.urlencode(form))
        else:
            reply = self.call("POST", path, form=form)
        if not reply.get("success"):
            raise HubError(f"{user}: {action} {assignment or ''} failed: {str(reply.get('value'))[:600]}")
        return reply["value"]

    def notebook(self, user: str, path: str) -> dict:
        return self.call("GET", f"/user/{user}/api/contents/{urllib.parse.quote(path)}?content=1")["content"]

    def save(self, user: str, path: str, nb: dict) -> None:
        model = {"type": "notebook", "format": "json", "content": nb}
        self.call("PUT", f"/user/{user}/api/contents/{urllib.parse.quote(path)}", model)


def answer(released: dict, assignment: str, notebook: str, share: float) -> dict:
    """The released notebook with the first `share` of its answer cells (in order) replaced by the solutions'."""
    import nbformat

    solution = nbformat.read(REPO / "solutions" / assignment / f"{notebook}.ipynb", as_version=4)
    by_id = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in solution.cells}
    answers = [c for c in released["cells"] if c.get("metadata", {}).get("nbgrader", {}).get("solution")]
    for cell in answers[: round(len(answers) * share)]:
        source = by_id[cell["metadata"]["nbgrader"]["grade_id"]].source
        cell["source"] = source
    return released


def instructor(state: State, argv: list[str], **env: str) -> str:
    done = as_user(state, state.instructor, argv, cwd=state.course / "autograder", extra_env=env, timeout=1800)
    if done.returncode != 0:
        raise HubError(
            f"instructor: {' '.join(argv)} failed ({done.returncode}):\n{(done.stdout + done.stderr)[-3000:]}"
        )
    return done.stdout + done.stderr


def utc(when: dt.datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


@dataclass
class Plan:
    """Who does what (the module's doc), the due dates and the policy."""

    policy: str
    due_in_s: float
    shares: dict[str, float] = field(default_factory=lambda: {"ada": 1.0, "ben": 0.0, "cleo": 0.5})
    late: dict[str, str] = field(default_factory=lambda: {"ada": "01_losses"})
    twice: dict[str, str] = field(default_factory=lambda: {"cleo": "00_warmup"})


def cycle(state: State, plan: Plan, log) -> tuple[list[Row], dict[str, float]]:  # print-like
    """The whole cycle on a running hub. Returns the rows and the phases' wall-clock times."""
    from hub.checks import cross_checks

    hub, times = Hub(state), {}
    rows = {(s, a): Row(s, a) for s in state.students for a in ASSIGNMENTS}
    t0 = time.monotonic()
    for user in [*state.students, state.instructor]:
        hub.start_server(user)
    times["servers"] = time.monotonic() - t0

    t = time.monotonic()
    due = {}
    for a in ASSIGNMENTS:
        instructor(state, ["nbgrader", "generate_assignment", a, "--force"])
        instructor(state, ["nbgrader", "release_assignment", a, "--force"])
        # chapter 1 is due `due_in_s` from now (before any student acts): time for the on-time submissions, then
        # ada's late one; the warm-up in a day
        due[a] = dt.datetime.now(UTC) + (dt.timedelta(seconds=plan.due_in_s) if a in plan.late.values() else DAY)
        instructor(state, ["nbgrader", "db", "assignment", "add", a, f"--duedate={utc(due[a])}"])
    # The formgrader on the instructor's server: this course's gradebook (the due dates) and the exchange.
    listed = hub.call("GET", f"/user/{state.instructor}/formgrader/api/assignments")
    released = sorted(x["name"] for x in listed if x.get("status") == "released" and x.get("display_duedate"))
    if released != sorted(ASSIGNMENTS):
        raise HubError(f"the instructor's formgrader shows {released} released with a due date, not {ASSIGNMENTS}")
    log(f"released {ASSIGNMENTS}; chapter 1 due {utc(due['01_losses'])}; the formgrader shows them released")
    times["release"] = time.monotonic() - t

    t = time.monotonic()
    for s in state.students:
        visible = {x["assignment_id"] for x in hub.nbgrader(s, "list") if x["status"] == "released"}
        for a in ASSIGNMENTS:
            if a not in visible:
                rows[s, a].problems.append("not in the Assignment List")
                continue
            fetched = [x for x in hub.nbgrader(s, "fetch", a) if x["assignment_id"] == a and x["status"] == "fetched"]
            rows[s, a].fetched = bool(fetched)
    for s, a in plan.twice.items():  # the first of two submissions: as fetched
        hub.nbgrader(s, "submit", a)
        rows[s, a].submissions += 1
    late_ones = []
    for s in state.students:
        for a in ASSIGNMENTS:
            for name in released_notebooks(state, a):
                path = f"{state.course_id}/{a}/{name}.ipynb"
                hub.save(s, path, answer(hub.notebook(s, path), a, name, plan.shares.get(s, 0.0)))
            if plan.late.get(s) == a:
                late_ones.append((s, a))
                continue
            hub.nbgrader(s, "submit", a)
            rows[s, a].submissions += 1
    late_due = min(due[a] for _, a in late_ones) if late_ones else dt.datetime.now(UTC)
    if dt.datetime.now(UTC) > late_due:
        raise HubError(f"the on-time submissions ended after the due date ({utc(late_due)}): raise --due-in")
    wait = (late_due - dt.datetime.now(UTC)).total_seconds() + 2
    if wait > 0:
        log(f"waiting {wait:.0f} s for chapter 1's due date")
        time.sleep(wait)
    for s, a in late_ones:
        hub.nbgrader(s, "submit", a)
        rows[s, a].submissions += 1
    times["students"] = time.monotonic() - t

    t = time.monotonic()
    env = {"LOSSLAB_LATE_POLICY": plan.policy}
    for a in ASSIGNMENTS:
        instructor(state, ["nbgrader", "collect", a])
    times["collect"] = time.monotonic() - t
    for a in ASSIGNMENTS:
        t = time.monotonic()
        out = instructor(state, ["make", "-C", str(state.course), "grade", f"ASSIGNMENT={a}", "GRADE_JOBS=2"], **env)
        times[f"grade {a}"] = time.monotonic() - t
        log("\n".join(x for x in out.splitlines() if re.match(r"^(student |\S+ +\d+\.\d +\d)", x)))
    t = time.monotonic()
    for a in ASSIGNMENTS:
        instructor(state, ["nbgrader", "release_feedback", a])
    for s in state.students:
        for a in ASSIGNMENTS:
            hub.nbgrader(s, "fetch_feedback", a)
            rows[s, a].feedback = feedback_matches(state, s, a)
    times["feedback"] = time.monotonic() - t
    read_grades(state, rows, due)
    check_rows(rows, plan)
    t = time.monotonic()
    instructor(state, ["make", "-C", str(state.course), "export"])
    check_export(state, rows)
    times["export"] = time.monotonic() - t
    t = time.monotonic()
    for s, problem in [*ui_checks(hub, state), *cross_checks(state)]:
        for a in ASSIGNMENTS:
            rows[s, a].problems.append(problem)
    times["isolation checks"] = time.monotonic() - t
    times["total"] = time.monotonic() - t0
    return list(rows.values()), times


def ui_checks(hub: Hub, state: State) -> list[tuple[str, str]]:
    """(student, problem): a student's server serves no formgrader, and their JupyterLab disables the instructor's
    panels but keeps the Assignment List (the page's own configuration, as the browser gets it)."""
    problems = []
    for s in state.students:
        try:
            hub.call("GET", f"/user/{s}/formgrader/api/assignments")
            problems.append((s, "the formgrader answers on a student's server"))
        except urllib.error.HTTPError:
            pass
        request = urllib.request.Request(
            f"{state.url}/user/{s}/lab", headers={"Authorization": f"token {state.service_token}"}
        )
        with urllib.request.urlopen(request, timeout=120) as reply:
            page = reply.read().decode()
        found = re.search(r'<script id="jupyter-config-data" type="application/json">(.*?)</script>', page, re.S)
        disabled = json.loads(found.group(1)).get("disabledExtensions", []) if found else None
        if disabled is None:
            problems.append((s, "no JupyterLab page configuration found"))
            continue
        for panel in ("formgrader", "create-assignment"):
            if f"@jupyter/nbgrader:{panel}" not in disabled:
                problems.append((s, f"JupyterLab shows nbgrader's {panel}"))
        if "@jupyter/nbgrader:assignment-list" in disabled:
            problems.append((s, "JupyterLab hides the Assignment List"))
    return problems


def released_notebooks(state: State, assignment: str) -> list[str]:
    folder = state.exchange / state.course_id / "outbound" / assignment
    return sorted(p.stem for p in folder.glob("*_exercise.ipynb"))


def feedback_matches(state: State, student: str, assignment: str) -> bool:
    """The student's fetched feedback is the instructor's feedback for that student, byte for byte."""
    mine = sorted((state.course / "autograder" / "feedback" / student / assignment).glob("*.html"))
    got = sorted((state.home(student) / state.course_id / assignment / "feedback").glob("*/*.html"))
    return bool(mine) and [p.read_bytes() for p in mine] == [p.read_bytes() for p in got[-len(mine) :]]


def read_grades(state: State, rows: dict, due: dict) -> None:
    from nbgrader.api import Gradebook, MissingEntry

    url = f"sqlite:///{state.course / 'autograder' / 'gradebook.db'}"
    with Gradebook(url, state.course_id) as gb:
        for (s, a), row in rows.items():
            try:
                sub = gb.find_submission(a, s)
            except MissingEntry:
                row.problems.append("not in the gradebook")
                continue
            row.before, row.penalty, row.max_score = float(sub.score), float(sub.late_submission_penalty), sub.max_score
            row.after = max(0.0, row.before - row.penalty)
            row.seconds_late = float(sub.total_seconds_late)
            stamp = sub.timestamp.replace(tzinfo=UTC) if sub.timestamp.tzinfo is None else sub.timestamp
            expected_late = stamp > due[a]
            if (row.seconds_late > 0) != expected_late:
                row.problems.append(f"late {row.seconds_late:.0f} s but submitted {utc(stamp)}, due {utc(due[a])}")


def check_rows(rows: dict, plan: Plan) -> None:
    """Every row against the plan and the policy (autograder/late.py's penalty())."""
    from autograder.late import parse_policy, penalty

    method, percent = parse_policy(plan.policy)
    for (s, a), row in rows.items():
        want_submissions = 2 if plan.twice.get(s) == a else 1
        if not row.fetched:
            row.problems.append("not fetched")
        if row.submissions != want_submissions:
            row.problems.append(f"{row.submissions} submissions, planned {want_submissions}")
        if not row.feedback:
            row.problems.append("feedback not fetched, or not the student's own")
        if row.before is None:
            continue
        if (row.seconds_late > 0) != (plan.late.get(s) == a):
            row.problems.append("late" if row.seconds_late > 0 else "on time, though submitted after the due date")
        expected = penalty(method, percent, row.before, row.seconds_late)
        if not math.isclose(row.penalty, expected, abs_tol=1e-6):
            row.problems.append(f"penalty {row.penalty:g}, the policy says {expected:g}")
        share = plan.shares.get(s, 0.0)
        if share == 1.0 and row.before != row.max_score:
            row.problems.append(f"the solutions scored {row.before:g} of {row.max_score:g}")
        if share == 0.0 and row.before != 0:
            row.problems.append(f"a blank submission scored {row.before:g}")
        if 0 < share < 1 and not 0 < row.before < row.max_score:
            row.problems.append(f"half right scored {row.before:g} of {row.max_score:g}")


def check_export(state: State, rows: dict) -> None:
    """`make export`'s LMS gradebook: each student's points after the penalty, as the gradebook has them."""
    import csv

    path = state.course / "autograder" / "gradebook-lms.csv"
    if not path.exists() or not (state.course / "autograder" / "grades.csv").exists():
        for row in rows.values():
            row.problems.append("make export wrote no gradebook-lms.csv or grades.csv")
        return
    table = list(csv.reader(path.open(encoding="utf-8")))
    header, by_id = table[0], {line[3]: line for line in table[2:]}
    for (s, a), row in rows.items():
        line = by_id.get(s)
        if line is None or a not in header:
            row.problems.append("missing from the LMS export")
        elif row.after is not None and not math.isclose(float(line[header.index(a)]), row.after, abs_tol=0.006):
            row.problems.append(f"the LMS export says {line[header.index(a)]}, the gradebook {row.after:g}")


def table(rows: list[Row]) -> str:
    head = f"{'student':<8} {'assignment':<10} {'fetched':<7} {'submitted':<9} {'late':<10} "
    head += f"{'before':>7} {'penalty':>7} {'after':>7} {'max':>5}  {'feedback':<8} result"
    lines = [head, "-" * len(head)]

    def num(x: float | None) -> str:
        return "-" if x is None else f"{x:g}"

    for r in rows:
        late = f"{r.seconds_late:.0f} s" if r.seconds_late > 0 else "no"
        lines.append(
            f"{r.student:<8} {r.assignment:<10} {'yes' if r.fetched else 'NO':<7} {r.submissions:<9} {late:<10} "
            f"{num(r.before):>7} {num(r.penalty):>7} {num(r.after):>7} {num(r.max_score):>5}  "
            f"{'yes' if r.feedback else 'NO':<8} {'ok' if not r.problems else 'WRONG: ' + '; '.join(r.problems)}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hub.classroom", description=__doc__.split("\n")[0])
    parser.add_argument("--policy", default=None, help="none, zero or percent:N (default: the course's LATE_POLICY)")
    parser.add_argument("--due-in", type=float, default=45.0, help="seconds from release to chapter 1's due date")
    parser.add_argument("--roster", type=Path, default=HUB / "roster.example.csv")
    parser.add_argument("--isolate", choices=["auto", "bwrap", "off"], default="auto")
    parser.add_argument("--keep", action="store_true", help="leave the hub running (make hub-stop removes it)")
    args = parser.parse_args(argv)
    if args.policy is None:
        import os

        from autograder.late import parse_policy

        args.policy = os.environ.get("LOSSLAB_LATE_POLICY") or _course_policy()
        parse_policy(args.policy)
    root = Path(tempfile.mkdtemp(prefix="losslab-classroom-", dir="/tmp"))
    root.chmod(0o755)
    started = time.monotonic()
    print(f"make classroom: a fresh hub in {root}, late policy {args.policy}", flush=True)
    try:
        state = up(root, args.roster, "instructor", "shared", args.isolate)
        print(f"hub up in {time.monotonic() - started:.0f} s at {state.url} (isolation: {state.isolate})", flush=True)
        rows, times = cycle(state, Plan(args.policy, args.due_in), lambda m: print(m, flush=True))
    except (HubError, urllib.error.URLError, OSError) as exc:
        print(f"make classroom: {exc}", file=sys.stderr)
        if not args.keep:
            down(root)
        return 2
    except BaseException:
        down(root)
        raise
    print(table(rows))
    times["set-up and cycle"] = time.monotonic() - started
    print("times (s): " + ", ".join(f"{k} {v:.0f}" for k, v in times.items()), flush=True)
    if args.keep:
        print(f"the hub keeps running: make hub-stop HUB_ROOT={root}")
    else:
        t = time.monotonic()
        problems = down(root)
        print(f"hub stopped and removed in {time.monotonic() - t:.0f} s" + ("" if not problems else f": {problems}"))
        if problems:
            return 1
    bad = [r for r in rows if r.problems]
    print("every row is what the policy says" if not bad else f"{len(bad)} rows are WRONG")
    return 1 if bad else 0


def _course_policy() -> str:
    """The course's LATE_POLICY line (autograder/nbgrader_config.py), read without running the file."""
    for line in (REPO / "autograder" / "nbgrader_config.py").read_text().splitlines():
        if line.startswith("LATE_POLICY ="):
            return line.split("=", 1)[1].strip().strip("\"'")
    return "none"


if __name__ == "__main__":
    sys.exit(main())
