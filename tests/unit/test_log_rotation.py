"""scripts.log_rotation: `make up`'s logs rotate by size, between lines, keeping a bounded number of old files."""
from __future__ import annotations

import sys
import time
from pathlib import Path

from scripts import servers
from scripts.log_rotation import RotatingFile, copy


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


def rotators(log) -> list[int]:
    """PIDs of live scripts.log_rotation processes writing `log`."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0") if entry.name.isdigit() else []
        except OSError:
            continue
        if b"scripts.log_rotation" in argv and str(log).encode() in argv:
            found.append(int(entry.name))
    return found


def test_a_server_spawned_with_rotation_writes_through_it_and_the_rotator_ends_with_it(tmp_path, monkeypatch):
    monkeypatch.setattr(servers, "log_rotation", servers.LogRotation(max_bytes=2000, backups=1))
    script = "for i in range(300): print(f'{i:05d}', 'z' * 40)"
    proc, log = servers._spawn("chatty", [sys.executable, "-c", script], tmp_path)
    assert proc.wait(20) == 0
    deadline = time.monotonic() + 10
    while rotators(log) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not rotators(log), "the rotator exits when the server's output closes"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["chatty.log", "chatty.log.1"]
    assert log.read_text().splitlines()[-1] == "00299 " + "z" * 40
    assert log.stat().st_size <= 2000 and (tmp_path / "chatty.log.1").stat().st_size <= 2000
