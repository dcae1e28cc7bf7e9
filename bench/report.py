"""Write one benchmark's section of BENCHMARKS.md, leaving the other sections as they are.

Benchmarks always write. Tests that measure something on the way (the e2e alert path) go through `record` and
`figure_path`, which write to BENCHMARKS.md and docs/ only under `make bench` (RECORD_BENCHMARKS=1), so that
`make test` changes no tracked file.
"""
from __future__ import annotations

import datetime as dt
import os
import platform
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = ROOT / "BENCHMARKS.md"
SCRATCH = Path(os.environ.get("TMPDIR", "/tmp")) / "ml-drift-monitor-figures"
HEADER = "# Benchmarks\n\nEvery figure below is written by `make bench` (or by the test named in its section); each section says its machine and date.\n"


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GiB, Python {platform.python_version()}, {platform.system()}"


def stamp() -> str:
    return f"_Measured {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC on {machine()}._"


def write_section(name: str, title: str, body: str) -> None:
    """Replace (or append) the section called `name` in BENCHMARKS.md."""
    text = BENCHMARKS.read_text() if BENCHMARKS.exists() else HEADER
    block = f"<!-- bench:{name} -->\n## {title}\n\n{stamp()}\n\n{body.strip()}\n<!-- /bench:{name} -->"
    pattern = re.compile(rf"<!-- bench:{re.escape(name)} -->.*?<!-- /bench:{re.escape(name)} -->", re.S)
    text = pattern.sub(lambda _: block, text) if pattern.search(text) else text.rstrip() + "\n\n" + block + "\n"
    BENCHMARKS.write_text(text)


def recording() -> bool:
    return os.environ.get("RECORD_BENCHMARKS") == "1"


def record(name: str, title: str, body: str) -> Path:
    """A test's figures: into BENCHMARKS.md under `make bench`, else into a scratch file; returns where they went."""
    if recording():
        write_section(name, title, body)
        return BENCHMARKS
    SCRATCH.mkdir(parents=True, exist_ok=True)
    out = SCRATCH / f"{name}.md"
    out.write_text(f"## {title}\n\n{body}\n")
    return out


def figure_path(name: str) -> Path:
    """Where a test draws a picture: docs/ under `make bench`, else the scratch directory."""
    if recording():
        return ROOT / "docs" / name
    SCRATCH.mkdir(parents=True, exist_ok=True)
    return SCRATCH / name
