"""A class on JupyterHub (hub/): the roster, the users' configuration, the policy table's checks, and, as root with
Node.js, the real thing: `make hub`'s hub with PAM logins that stops leaving nothing behind, and `make classroom`'s
whole cycle (release, fetch, submit, late, collect, grade, feedback, isolation), which exits 0 only when every row
is what the policy says.

The slow tests skip with the reason when they cannot run here (not root, no npm, no JupyterHub in .hubsite/),
and fail instead under CI=true.
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import pwd
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from hub import classroom, site

REPO = Path(__file__).resolve().parent.parent


def _need_hub() -> None:
    missing = []
    if os.geteuid() != 0:
        missing.append("root (it creates system users)")
    if not shutil.which("npm") or not shutil.which("node"):
        missing.append("node and npm")
    if not site.hub_installed() or not site.chp_command().exists():
        missing.append(
            f"JupyterHub in {site.HUB_SITE} and configurable-http-proxy in {site.HUB_NODE} (make hub-install)"
        )
    if not missing:
        return
    reason = "the class on JupyterHub needs " + ", ".join(missing)
    if os.environ.get("CI") == "true":
        pytest.fail(reason + "; CI=true makes that a failure", pytrace=False)
    pytest.skip(reason)


# ---------------------------------------------------------------------------------------- quick checks


def test_roster_is_read_and_bad_rosters_are_refused(tmp_path: Path) -> None:
    students = site.read_roster(REPO / "hub" / "roster.example.csv")
    assert [s.id for s in students] == ["ada", "ben", "cleo"]
    assert students[0].last_name == "Lovelace"
    bad = {
        "no-id.csv": ("name\nada\n", "header line with an `id`"),
        "upper.csv": ("id\nAda\n", "cannot be a system user name"),
        "root-ish.csv": ("id\n../etc\n", "cannot be a system user name"),
        "twice.csv": ("id\nada\nada\n", "appears twice"),
    }
    for name, (text, message) in bad.items():
        (tmp_path / name).write_text(text)
        with pytest.raises(site.HubError, match=re.escape(message)):
            site.read_roster(tmp_path / name)
    with pytest.raises(site.HubError, match="ROSTER="):
        site.read_roster(tmp_path / "missing.csv")


def test_students_see_the_assignment_list_and_no_instructor_panels() -> None:
    student = REPO / "hub" / "student"
    page = json.loads((student / "labconfig" / "page_config.json").read_text())["disabledExtensions"]
    server = json.loads((student / "jupyter_server_config.json").read_text())["ServerApp"]["jpserver_extensions"]
    for panel in ("formgrader", "create-assignment", "course-list"):
        assert page[f"@jupyter/nbgrader:{panel}"] is True
    assert "@jupyter/nbgrader:assignment-list" not in page
    assert page["@jupyterlab/apputils-extension:announcements"] is True
    assert server["nbgrader.server_extensions.assignment_list"] is True
    assert server["nbgrader.server_extensions.validate_assignment"] is True
    assert server["nbgrader.server_extensions.formgrader"] is False
    instructor = json.loads((REPO / "hub" / "instructor" / "jupyter_server_config.json").read_text())
    assert instructor["ServerApp"]["jpserver_extensions"]["nbgrader.server_extensions.formgrader"] is True


def test_the_policy_table_catches_rows_that_are_wrong() -> None:
    plan = classroom.Plan("percent:10", 60)
    good = classroom.Row("ada", "01_losses", True, 1, 30.0, 10.0, 1.0, 9.0, 10.0, True)
    wrong_penalty = classroom.Row("ada", "01_losses", True, 1, 30.0, 10.0, 0.0, 10.0, 10.0, True)
    not_late = classroom.Row("ada", "00_warmup", True, 1, 5.0, 10.0, 1.0, 9.0, 10.0, True)
    blank_scored = classroom.Row("ben", "00_warmup", True, 1, 0.0, 2.0, 0.0, 2.0, 10.0, True)
    once = classroom.Row("cleo", "00_warmup", True, 1, 0.0, 5.0, 0.0, 5.0, 10.0, False)
    classroom.check_rows({("ada", "01_losses"): good}, plan)
    assert good.problems == []
    classroom.check_rows({("ada", "01_losses"): wrong_penalty}, plan)
    assert any("policy says 1" in p for p in wrong_penalty.problems)
    classroom.check_rows({("ada", "00_warmup"): not_late}, plan)
    assert "late" in not_late.problems
    classroom.check_rows({("ben", "00_warmup"): blank_scored}, plan)
    assert any("blank submission scored 2" in p for p in blank_scored.problems)
    classroom.check_rows({("cleo", "00_warmup"): once}, plan)
    assert any("1 submissions, planned 2" in p for p in once.problems)
    assert any("feedback" in p for p in once.problems)
    assert "WRONG" in classroom.table([once]) and " ok" in classroom.table([good])


# ------------------------------------------------------------------------------------ the real thing


def _gone(users: list[str], root: Path) -> list[str]:
    left = []
    for user in users:
        try:
            pwd.getpwnam(user)
            left.append(f"user {user}")
        except KeyError:
            pass
    if root.exists():
        left.append(str(root))
    return left


def _login(url: str, user: str, password: str) -> bool:
    """Log in through the hub's form (with its XSRF token); True when the hub accepted the password."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"{url}/hub/login", timeout=60).read().decode()
    xsrf = re.search(r'name="_xsrf" value="([^"]+)"', page)
    form = {"username": user, "password": password, **({"_xsrf": xsrf.group(1)} if xsrf else {})}
    try:
        opener.open(f"{url}/hub/login", data=urllib.parse.urlencode(form).encode(), timeout=120)
    except urllib.error.HTTPError:
        pass
    return any(c.name.startswith("jupyterhub-session-id") for c in jar) and any(
        c.name == "jupyterhub-hub-login" for c in jar
    )


@pytest.mark.slow
def test_make_hub_logs_in_system_users_and_leaves_nothing_behind(tmp_path: Path) -> None:
    _need_hub()
    root = Path(tempfile.mkdtemp(prefix="losslab-hub-test-", dir="/tmp"))
    root.rmdir()
    roster = tmp_path / "roster.csv"
    roster.write_text("id,first_name,last_name,email\nllt_ann,Ann,A,\nllt_bo,Bo,B,\n")
    command = [sys.executable, "-m", "hub.site", "up", "--foreground", "--root", str(root), "--roster", str(roster),
               "--instructor", "llt_prof", "--auth", "pam"]  # fmt: skip
    proc = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    try:
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline and proc.poll() is None:
            line = proc.stdout.readline()
            lines.append(line)
            if "Ctrl-C stops" in line:
                break
        assert proc.poll() is None, "".join(lines)
        out = "".join(lines)
        url = re.search(r"at (http://127\.0\.0\.1:\d+)/", out).group(1)
        passwords = dict(re.findall(r"^\s+(\S+)\s+password (\S+)$", out, re.M))
        assert set(passwords) == {"llt_prof", "llt_ann", "llt_bo"}
        assert _login(url, "llt_ann", passwords["llt_ann"])
        assert not _login(url, "llt_ann", passwords["llt_bo"])  # another user's password
        assert not _login(url, "root", passwords["llt_ann"])  # not in the class
        home = root / "home" / "llt_ann"
        assert home.stat().st_mode & 0o777 == 0o700 and pwd.getpwnam("llt_ann").pw_dir == str(home)
        assert (root / "exchange").stat().st_mode & 0o7777 == 0o1777
        gradebook = root / "home" / "llt_prof" / "losslab" / "autograder" / "gradebook.db"
        assert gradebook.exists() and pwd.getpwuid(gradebook.stat().st_uid).pw_name == "llt_prof"
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
        try:
            rest = proc.communicate(timeout=300)[0]
        except subprocess.TimeoutExpired:
            proc.kill()
            rest = ""
        if _gone(["llt_prof", "llt_ann", "llt_bo"], root):
            site.down(root)
    assert proc.returncode == 0, rest
    assert "removed" in rest
    assert _gone(["llt_prof", "llt_ann", "llt_bo"], root) == []


@pytest.mark.slow
@pytest.mark.system
def test_make_classroom_whole_cycle_is_what_the_policy_says() -> None:
    _need_hub()
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "hub.classroom"], cwd=REPO, capture_output=True, text=True, timeout=3000
    )
    out = done.stdout + done.stderr
    print(out)
    print(f"make classroom took {time.monotonic() - started:.0f} s here")
    assert done.returncode == 0, out[-6000:]
    assert "every row is what the policy says" in out
    table_rows = [line for line in out.splitlines() if re.match(r"^(ada|ben|cleo)\s+0[01]_", line)]
    assert len(table_rows) == 6 and all(line.rstrip().endswith(" ok") for line in table_rows), out
    ada_late = next(line for line in table_rows if line.startswith("ada") and "01_losses" in line)
    assert re.search(r"\d+ s", ada_late), ada_late  # late, by seconds
    root = Path(re.search(r"a fresh hub in (\S+),", out).group(1))
    assert _gone(["instructor", "ada", "ben", "cleo"], root) == []
