"""Log files that rotate by size: `make up`'s servers write their output through ONE process, for all of them.

    python -m scripts.log_rotation --hub      # stdin: a Unix socket over which scripts.servers hands over pipes
    some-server 2>&1 | python -m scripts.log_rotation .run/logs/service.log --max-bytes 10485760 --backups 3

When a file would pass its max bytes, it becomes `<file>.1` (`.1` becomes `.2`, ..., the oldest beyond the backups
is deleted) and a new file starts; a rotation happens between lines, never inside one (a single line longer than
the limit is written whole).

The hub (`--hub`, what `make up` runs) copies every server's output: scripts.servers sends it the read end of each
server's output pipe with the log's path (SCM_RIGHTS over a socketpair). One process of ~12 MB instead of one per
server (issue 24). It ends by itself when the control socket is closed (the `make up` process exited) and every
server's output has closed (the servers and their workers exited): nothing to stop separately.
"""
from __future__ import annotations

import argparse
import json
import os
import selectors
import signal
import socket
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

    def write_line(self, line: bytes, flush: bool = True) -> None:
        if self.size and self.size + len(line) > self.max_bytes:
            self.rotate()
        self.out.write(line)
        if flush:
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


class Stream:
    """One server's output pipe: whole lines go to its file; a partial line waits for its end (or for the limit)."""

    def __init__(self, target: RotatingFile | None) -> None:
        self.target, self.pending = target, b""
        self.broken = target is None  # a log that cannot be written: its output is read and dropped

    def feed(self, chunk: bytes) -> None:
        *lines, self.pending = (self.pending + chunk).split(b"\n")
        if len(self.pending) > self.target.max_bytes:  # bounded memory: an endless line is cut at the limit
            lines.append(self.pending)
            self.pending = b""
        for line in lines:
            self.target.write_line(line + b"\n", flush=False)
        self.target.out.flush()  # once per read: a reader sees each line at once, without a write per line

    def close(self) -> None:
        if self.pending:
            self.target.write_line(self.pending)
        self.target.close()


def feed_or_discard(stream: Stream, chunk: bytes) -> None:
    """One log that cannot be written (its folder deleted, a full disk) must not stop the hub, which every other server
    writes through: that server's output is read on and dropped (the server never blocks on a full pipe)."""
    if stream.broken:
        return
    try:
        stream.feed(chunk)
    except OSError as exc:
        stream.broken = True
        print(f"log_rotation: {stream.target.path}: {exc}; its output is dropped from now on", file=sys.stderr, flush=True)


def serve(control: socket.socket) -> None:
    """Copy every pipe handed over `control` (a message: {"path", "max_bytes", "backups"} in JSON with the pipe's read
    end attached) to its rotating file, until `control` is closed and every pipe has ended."""
    selector = selectors.DefaultSelector()
    selector.register(control, selectors.EVENT_READ)
    control_open, streams = True, 0
    while control_open or streams:
        for key, _ in selector.select():
            if key.fileobj is control:
                message, fds, _, _ = socket.recv_fds(control, 4096, 1)
                if not message:  # the starting process closed its end (or exited)
                    selector.unregister(control)
                    control.close()
                    control_open = False
                    continue
                spec = json.loads(message)
                try:
                    stream = Stream(RotatingFile(Path(spec["path"]), int(spec["max_bytes"]), int(spec["backups"])))
                except OSError as exc:
                    stream = Stream(None)
                    print(f"log_rotation: {spec['path']}: {exc}; its output is dropped", file=sys.stderr, flush=True)
                selector.register(fds[0], selectors.EVENT_READ, stream)
                streams += 1
                continue
            chunk = os.read(key.fd, 1 << 16)
            if chunk:
                feed_or_discard(key.data, chunk)
            else:  # the server and every process holding its output have exited
                selector.unregister(key.fd)
                os.close(key.fd)
                if not key.data.broken:
                    try:
                        key.data.close()
                    except OSError:
                        pass
                streams -= 1


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hub", action="store_true", help="copy the pipes handed over the socket on stdin (scripts.servers)")
    parser.add_argument("path", type=Path, nargs="?")
    parser.add_argument("--max-bytes", type=int, default=DEFAULT_MAX_BYTES)
    parser.add_argument("--backups", type=int, default=DEFAULT_BACKUPS)
    args = parser.parse_args(argv)
    # The server's process group gets SIGTERM at `make down`; keep copying until its output closes, so that its last
    # lines (shutdown messages) are written.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if args.hub:
        serve(socket.socket(fileno=sys.stdin.fileno()))
        return
    if args.path is None:
        parser.error("a log file's path, or --hub")
    target = RotatingFile(args.path, args.max_bytes, args.backups)
    try:
        copy(iter(sys.stdin.buffer.readline, b""), target)
    finally:
        target.close()


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
