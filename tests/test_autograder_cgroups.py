"""A submission's cgroup on either hierarchy (autograder/cgroups.py). This machine runs cgroup v1, and its
cgroup2 mount has no controllers (they are taken by v1): cgroup v2 is checked here against a fake tree laid out
as the kernel lays it out, v1 against the real one where it can be made (tests/test_sandbox.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from autograder import cgroups, sandbox


def _fake_v2(tmp_path: Path, controllers: str = "cpu memory pids", own: str = "/user.slice/grader") -> Path:
    root = tmp_path / "cgroup"
    folder = root / own.lstrip("/")
    folder.mkdir(parents=True)
    (root / "cgroup.controllers").write_text(controllers + "\n")
    (folder / "cgroup.procs").write_text("")
    (folder / "cgroup.controllers").write_text(controllers + "\n")
    (folder / "cgroup.subtree_control").write_text("")
    proc = tmp_path / "proc-self-cgroup"
    proc.write_text(f"0::{own}\n")
    return folder


@pytest.fixture
def v2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A cgroup v2 tree whose kernel, faked, delegates controllers and fills child folders with their files."""
    folder = _fake_v2(tmp_path)
    monkeypatch.setattr(cgroups, "CGROUP_ROOT", tmp_path / "cgroup")
    monkeypatch.setattr(cgroups, "PROC_SELF_CGROUP", tmp_path / "proc-self-cgroup")
    enabled: list[str] = []

    def enable(parent: Path, controller: str) -> None:
        enabled.append(controller)
        (parent / "cgroup.subtree_control").write_text(" ".join(enabled))

    def new_folder(child: Path) -> None:
        child.mkdir(exist_ok=True)
        files = ["cgroup.procs"]
        if "memory" in enabled:
            files += ["memory.max", "memory.swap.max", "memory.current", "memory.events", "memory.stat"]
        if "pids" in enabled:
            files += ["pids.max"]
        for name in files:
            (child / name).touch()

    monkeypatch.setattr(cgroups, "_enable", enable)
    monkeypatch.setattr(cgroups, "_new_folder", new_folder)
    return folder


def test_v2_is_chosen_when_there_is_no_v1_hierarchy(v2: Path) -> None:
    assert cgroups.version() == 2


def test_v2_makes_one_folder_with_memory_max_swap_off_and_pids_max(v2: Path) -> None:
    group = cgroups.make_cgroup("alice", 1000)
    folder = v2 / "losslab-alice"
    assert group.version == 2 and group.folders == [str(folder)] and not group.note
    assert set((v2 / "cgroup.subtree_control").read_text().split()) == {"memory", "pids"}
    assert (folder / "memory.max").read_text() == str(int(cgroups.ceiling_mb(1000) * 1e6))
    assert (folder / "memory.swap.max").read_text() == "0"
    assert (folder / "pids.max").read_text() == str(cgroups.CONFIG.pids_max)
    assert group.memory == str(folder) and group.procs == [str(folder / "cgroup.procs")]
    assert group.memory_mb == cgroups.ceiling_mb(1000)


def test_v2_usage_and_oom_kills_come_from_its_files(v2: Path) -> None:
    group = cgroups.make_cgroup("bob", 1000)
    folder = Path(group.memory)
    (folder / "memory.current").write_text("700000000\n")
    (folder / "memory.stat").write_text("anon 500000000\nfile 200000000\ninactive_file 150000000\n")
    (folder / "memory.events").write_text("low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n")
    assert group.usage_mb() == pytest.approx(550.0)
    assert group.oom_kills() == 1


def test_v2_without_delegated_controllers_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A cgroup2 mount whose controllers are all taken by v1 (this machine's): folders, but no limits."""
    _fake_v2(tmp_path, controllers="")
    monkeypatch.setattr(cgroups, "CGROUP_ROOT", tmp_path / "cgroup")
    monkeypatch.setattr(cgroups, "PROC_SELF_CGROUP", tmp_path / "proc-self-cgroup")
    group = cgroups.make_cgroup("carol", 1000)
    assert group.version == 2 and not group.memory
    assert "no memory or pids cgroup could be made here (cgroup v2)" in group.note
    group.remove()


def test_the_sandbox_line_names_the_hierarchy(monkeypatch: pytest.MonkeyPatch) -> None:
    on = sandbox.Decision("auto", True, "/usr/bin/bwrap", cgroup_version=2)
    assert "cgroup v2" in on.line() and "memory and process limits" in on.line()
    measured = sandbox.Decision("auto", True, "/usr/bin/bwrap", cgroup_note="no memory cgroup", cgroup_version=1)
    assert "cgroup v1" in measured.line() and "memory measured, not enforced" in measured.line()


def test_v1_reads_usage_less_inactive_cache_and_oom_kills(tmp_path: Path) -> None:
    (tmp_path / "memory.usage_in_bytes").write_text("900000000\n")
    (tmp_path / "memory.stat").write_text("cache 400000000\ntotal_inactive_file 300000000\n")
    (tmp_path / "memory.oom_control").write_text("oom_kill_disable 0\nunder_oom 0\noom_kill 2\n")
    assert cgroups.usage_mb(str(tmp_path)) == pytest.approx(600.0)
    assert cgroups.oom_kills(str(tmp_path)) == 2


def test_this_host_is_read_as_it_is() -> None:
    """v1 here (memory mounted under /sys/fs/cgroup/memory); on a v2 host this says 2."""
    expected = 1 if Path("/sys/fs/cgroup/memory/cgroup.procs").exists() else None
    if expected is None:
        pytest.skip("not a cgroup v1 host")
    assert cgroups.version() == 1


def test_a_real_cgroup2_mount_holds_and_ends_a_submissions_processes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What this machine can show of v2: a cgroup2 hierarchy mounted beside v1 (root only), where the folder is
    made, a process joins it as the sandbox's command does and is ended with it. Its memory and pids controllers
    are bound to v1 here, so the note says that no limit could be set (the fake tree above checks the limits)."""
    import shutil
    import subprocess
    import time

    mount = tmp_path / "cg2"
    mount.mkdir()
    if not shutil.which("mount") or subprocess.run(["mount", "-t", "cgroup2", "none", str(mount)]).returncode != 0:
        pytest.skip("cannot mount a cgroup2 hierarchy here (needs root, and a kernel with cgroup2)")
    try:
        monkeypatch.setattr(cgroups, "CGROUP_ROOT", mount)
        monkeypatch.setattr(cgroups, "PROC_SELF_CGROUP", tmp_path / "proc-self-cgroup")
        (tmp_path / "proc-self-cgroup").write_text("0::/\n")
        assert cgroups.version() == 2
        group = cgroups.make_cgroup("real-v2", 500)
        assert group.version == 2 and group.folders == [str(mount / "losslab-real-v2")]
        delegated = (mount / "cgroup.controllers").read_text().split()
        assert ("memory" in delegated) == bool(group.memory) and ("no memory" in group.note) != bool(group.memory)
        child = subprocess.Popen(["/bin/sh", "-c", f"echo $$ > {group.procs[0]}; exec sleep 60"])
        for _ in range(50):
            if group.pids():
                break
            time.sleep(0.05)
        assert group.pids() == [child.pid]
        assert group.remove() == [child.pid] and child.wait(timeout=10) == -9
        assert not (mount / "losslab-real-v2").exists()
    finally:
        subprocess.run(["umount", str(mount)], check=False)
