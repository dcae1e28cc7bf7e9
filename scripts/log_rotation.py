"""Copy standard input to a log file that rotates by size: `make up`'s servers write their output through it.

    some-server 2>&1 | python -m scripts.log_rotation .run/logs/service.log --max-bytes 10485760 --backups 3

When the file would pass `--max-bytes`, it becomes `<file>.1` (`.1` becomes `.2`, ..., the oldest beyond `--backups`
is deleted) and a new file starts; a rotation happens between lines, never inside one (a single line longer than
the limit is written whole). It ends when its input closes, i.e. when the server exits: nothing to stop separately.
"""
from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path
from typing import BinaryIO, Iterable

DEFAULT_MAX_BYTES = 10 * 2**20
DEFAULT_BACKUPS = 3


class RotatingFile:
    """An append-only file of at most `max_bytes` (whole lines), with `backups` older generations beside it."""

    def __init__(self, path: Path, max_bytes: int = DEFAULT_MAX_BYTES, backups: int = DEFAULT_BACKUPS) -> None:
        self.path, self.max_bytes, self.backups = path, max_bytes, backups
        self.out: BinaryIO = open(path, "ab")
        self.size = self.out.tell()

    def write_line(self, line: bytes) -> None:
        if self.size and self.size + len(line) > self.max_bytes:
            self.rotate()
        self.out.write(line)
        self.out.flush()  # a reader (tests, `tail -f`) sees each line at once
        self.size += len(line)

    def rotate(self) -> None:
        self.out.close()
        oldest = self.path.with_name(f"{self.path.name}.{self.backups}")
        oldest.unlink(missing_ok=True)
        for n in range(self.backups - 1, 0, -1):
            older = self.path.with_name(f"{self.path.name}.{n}")
            if older.exists():
                older.rename(self.path.with_name(f"{self.path.name}.{n + 1}"))
        if self.backups:
            self.path.rename(self.path.with_name(f"{self.path.name}.1"))
        else:
            self.path.unlink(missing_ok=True)
        self.out, self.size = open(self.path, "ab"), 0

    def close(self) -> None:
        self.out.close()


def copy(lines: Iterable[bytes], target: RotatingFile) -> None:
    for line in lines:
        target.write_line(line)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("path", type=Path)
    parser.add_argument("--max-bytes", type=int, default=DEFAULT_MAX_BYTES)
    parser.add_argument("--backups", type=int, default=DEFAULT_BACKUPS)
    args = parser.parse_args(argv)
    # The server's process group gets SIGTERM at `make down`; keep copying until its output closes, so that its last
    # lines (shutdown messages) are written.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    target = RotatingFile(args.path, args.max_bytes, args.backups)
    try:
        copy(iter(sys.stdin.buffer.readline, b""), target)
    finally:
        target.close()


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
