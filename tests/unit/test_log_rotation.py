"""scripts.log_rotation: `make up`'s logs rotate by size, between lines, keeping a bounded number of old files."""
from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path

from scripts import servers
from scripts.log_rotation import RotatingFile, Stream, copy


def test_rotates_between_lines_and_keeps_only_the_backups(tmp_path):
    log = tmp_path / "svc.log"
    target = RotatingFile(log, max_bytes=100, backups=2)
    lines = [f"line {i:03d} ".encode() + b"x" * 20 + b"\n" for i in range(20)]  # 30 bytes each: 3 per file
    copy(lines, target)
    target.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["svc.log", "svc.log.1", "svc.log.2"]
    kept = b"".join((tmp_path / name).read_bytes() for name in ("svc.log.2", "svc.log.1", "svc.log"))
    assert kept == b"".join(lines[-len(kept.splitlines()):]), "the newest lines are kept, in order"
    assert all(0 < (tmp_path / n).stat().st_size <= 100 for n in ("svc.log", "svc.log.1", "svc.log.2"))
    long = b"y" * 500 + b"\n"
    target = RotatingFile(log, max_bytes=100, backups=2)
    copy([long], target)
    target.close()
    assert log.read_bytes() == long, "a line longer than the limit is written whole, in a file of its own"


def rotators() -> set[int]:
    """PIDs of live scripts.log_rotation processes (also other sessions': only the ones named below are asserted on)."""
    found = set()
    for entry in Path("/proc").iterdir():
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0") if entry.name.isdigit() else []
        except OSError:
            continue
        if b"scripts.log_rotation" in argv:
            found.add(int(entry.name))
    return found


def open_files(pid: int) -> set[str]:
    found = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            found.add(os.readlink(fd))
        except OSError:
            continue
    return found


def test_servers_spawned_with_rotation_write_through_one_process_that_ends_with_them(tmp_path, monkeypatch):
    monkeypatch.setattr(servers, "log_rotation", servers.LogRotation(max_bytes=2000, backups=1))
    monkeypatch.setattr(servers, "_log_hub", None)
    script = "import sys, time; time.sleep(float(sys.argv[1]))\nfor i in range(300): print(f'{i:05d}', 'z' * 40)"
    procs = {}
    for name, delay in (("chatty", "1.5"), ("late", "4")):
        procs[name] = servers._spawn(name, [sys.executable, "-c", script, delay], tmp_path / name)
    hub = servers._log_hub.proc.pid
    time.sleep(0.5)
    assert {str(log) for _, log in procs.values()} <= open_files(hub), "one rotating process writes every server's log"
    assert procs["chatty"][0].wait(20) == 0
    servers.close_log_hub()  # no more servers: the hub ends once the ones it copies have exited
    time.sleep(0.5)
    assert hub in rotators(), "the hub keeps copying while a server runs"
    assert procs["late"][0].wait(20) == 0
    deadline = time.monotonic() + 10
    while hub in rotators() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert hub not in rotators(), "the hub exits when every server's output has closed"
    for name, (_, log) in procs.items():
        assert sorted(p.name for p in log.parent.iterdir() if p.name != "log_rotation.log") == [f"{name}.log", f"{name}.log.1"]
        assert log.read_text().splitlines()[-1] == "00299 " + "z" * 40
        assert log.stat().st_size <= 2000 and (log.parent / f"{name}.log.1").stat().st_size <= 2000


def test_a_partial_line_waits_for_its_end_and_an_endless_one_is_cut_at_the_limit(tmp_path):
    log = tmp_path / "svc.log"
    stream = Stream(RotatingFile(log, max_bytes=100, backups=1))
    stream.feed(b"first li")
    assert log.read_bytes() == b"", "no half line in the file"
    stream.feed(b"ne\nsecond")
    assert log.read_bytes() == b"first line\n"
    stream.feed(b"x" * 150)
    assert stream.pending == b"", "the pending bytes stay bounded"
    stream.feed(b"tail")
    stream.close()
    assert (tmp_path / "svc.log.1").read_bytes() == b"second" + b"x" * 150 + b"\n", "cut whole, in a file of its own"
    assert log.read_bytes() == b"tail", "what is left at the end is written"


def test_a_log_that_cannot_be_written_does_not_stop_the_others(tmp_path, monkeypatch):
    monkeypatch.setattr(servers, "log_rotation", servers.LogRotation(max_bytes=300, backups=1))
    monkeypatch.setattr(servers, "_log_hub", None)
    script = "import sys, time; time.sleep(1.5)\nfor i in range(50): print(f'{i:05d}', 'z' * 40, flush=True); time.sleep(0.02)"
    kept, log = servers._spawn("kept", [sys.executable, "-c", script], tmp_path / "kept")
    doomed, _ = servers._spawn("doomed", [sys.executable, "-c", script], tmp_path / "doomed")
    hub = servers._log_hub.proc
    shutil.rmtree(tmp_path / "doomed")  # its first rotation fails: no folder to rename in
    assert doomed.wait(20) == 0 and kept.wait(20) == 0, "no server is stopped by a broken pipe"
    servers.close_log_hub()
    assert hub.wait(10) == 0
    assert log.read_text().splitlines()[-1] == "00049 " + "z" * 40, "the other server's log is whole to its end"
    assert "doomed.log" in (tmp_path / "kept" / "log_rotation.log").read_text(), "the hub says which log it dropped"
