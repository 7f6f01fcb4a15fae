"""The class on JupyterHub in real Chromium (hub/): a student logs in to the hub, opens the Assignment List, fetches
the warm-up, submits it, and after the instructor has collected, graded (the sandboxed grader) and released
feedback, fetches their feedback there; the instructor's formgrader lists the released assignment.

Needs what tests/test_hub.py's slow tests need (root, node and npm, JupyterHub in .hubsite/) and Chromium; skips
with the reason otherwise (fails under CI=true or LOSSLAB_REQUIRE_BROWSER=1).
"""

from __future__ import annotations

import datetime as dt
import re
import tempfile
from pathlib import Path

import pytest

from hub import site
from hub.classroom import instructor, utc
from tests.browser.conftest import _unavailable, chromium_context
from tests.test_hub import _need_hub
from tests.tools.labserver import chromium_missing

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.system]


@pytest.fixture(scope="module")
def classhub():  # a hub.site.State
    reason = chromium_missing()
    if reason:
        _unavailable(reason)
    _need_hub()
    root = Path(tempfile.mkdtemp(prefix="losslab-hub-browser-", dir="/tmp"))
    root.chmod(0o755)
    roster = root.parent / f"{root.name}-roster.csv"
    roster.write_text("id,first_name,last_name,email\nllb_ben,Ben,Okafor,\n")
    try:
        state = site.up(root, roster, "llb_prof", "shared", "auto")
        yield state
    finally:
        roster.unlink(missing_ok=True)
        site.down(root)
    assert not root.exists()


def _login(page, state: site.State, user: str) -> None:  # a playwright Page
    from playwright.sync_api import expect

    page.goto(f"{state.url}/hub/login")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", state.passwords["*"])
    page.click("input[type=submit], button[type=submit]")
    page.wait_for_url(re.compile(rf".*/user/{user}/.*"), timeout=240_000)
    if "/lab" in page.url:
        expect(page.locator("#jp-main-dock-panel")).to_be_visible(timeout=120_000)


def _assignment_list(page):
    page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader").click()
    page.locator(".lm-Menu-itemLabel", has_text="Assignment List").click()
    return page.locator(".lm-Widget", has=page.locator("text=Released assignments")).last


def test_a_student_fetches_submits_and_fetches_feedback_in_the_assignment_list(
    classhub: site.State, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    state = classhub
    student = state.students[0]
    due = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    instructor(state, ["nbgrader", "db", "assignment", "add", "00_warmup", f"--duedate={utc(due)}"])
    instructor(state, ["nbgrader", "generate_assignment", "00_warmup", "--force"])
    instructor(state, ["nbgrader", "release_assignment", "00_warmup", "--force"])

    with chromium_context(tmp_path / "profile") as context:
        page = context.new_page()
        _login(page, state, student)
        page.goto(f"{state.url}/user/{student}/lab")
        expect(page.locator("#jp-main-dock-panel")).to_be_visible(timeout=120_000)
        panel = _assignment_list(page)
        released = panel.locator("#released_assignments_list")
        expect(released).to_contain_text("00_warmup", timeout=60_000)
        released.get_by_role("button", name="Fetch", exact=True).click()
        fetched = panel.locator("#fetched_assignments_list")
        expect(fetched).to_contain_text("00_warmup", timeout=60_000)
        assert (state.home(student) / state.course_id / "00_warmup" / "warmup_exercise.ipynb").exists()
        fetched.get_by_role("button", name="Submit", exact=True).click()
        submitted = panel.locator("#submitted_assignments_list")
        expect(submitted).to_contain_text("00_warmup", timeout=60_000)
        assert list((state.exchange / state.course_id / "inbound").glob(f"{student}+00_warmup+*"))

        # the instructor: collect, grade with the sandboxed grader, release feedback
        instructor(state, ["nbgrader", "collect", "00_warmup"])
        instructor(state, ["python", "-m", "autograder.grade", "00_warmup", "--jobs", "1"])
        instructor(state, ["nbgrader", "release_feedback", "00_warmup"])

        page.reload()
        expect(page.locator("#jp-main-dock-panel")).to_be_visible(timeout=120_000)
        panel = _assignment_list(page)
        submitted = panel.locator("#submitted_assignments_list")
        expect(submitted).to_contain_text("00_warmup", timeout=60_000)
        submitted.get_by_role("button", name="Fetch Feedback").first.click()
        expect(submitted).to_contain_text("view feedback", timeout=60_000)
        feedback = list((state.home(student) / state.course_id / "00_warmup" / "feedback").glob("*/*.html"))
        assert feedback and "warmup_exercise" in feedback[0].name

        # the instructor's formgrader lists the released assignment
        prof = context.new_page()
        page.context.clear_cookies()
        _login(prof, state, state.instructor)
        prof.goto(f"{state.url}/user/{state.instructor}/formgrader")
        expect(prof.locator("body")).to_contain_text("00_warmup", timeout=120_000)
        expect(prof.locator("body")).to_contain_text("released", timeout=60_000)
