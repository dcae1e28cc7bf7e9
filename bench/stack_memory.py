"""Memory of the native stack (`make up` without Grafana) under the demo's load: each process's RSS (and PSS), and the total.

    python -m bench.stack_memory [--seconds 240] [--baseline REV]

The stack is started as `make up` starts it (scripts/stack.py: Stack with Settings.demo(), logs rotated as in `make up`,
on free ports, in a temporary run directory), Locust runs the demo (baseline, then the drift after 60 s), and every
process of the stack is sampled every 5 s after a warm-up: the table holds each process's peak, the total is the peak of
the per-sample sum. `--baseline REV` first measures the code of git revision REV the same way (in a temporary git
worktree of it, same virtualenv and model store) and writes both side by side.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
MB = 2**20
SPEC_LIMIT_MB = 750  # the spec's ~900 MB for everything, minus Grafana's ~150 MB (issue 24)


def label(proc: psutil.Process, parts: dict[int, str]) -> str:
    """A process's role: a part of the stack by its PID, a child of one (BentoML's worker), or a log rotator."""
    if proc.pid in parts:
        return parts[proc.pid] + (" (supervisor)" if parts[proc.pid] == "service" else "")
    cmdline = " ".join(proc.cmdline())
    if "scripts.log_rotation" in cmdline:
        return "log rotation"
    for parent in proc.parents():
        if parent.pid in parts:
            return f"{parts[parent.pid]} ({'worker' if 'worker' in cmdline else proc.name()})"
    return proc.name()


def sample(parts: dict[int, str]) -> dict[str, tuple[float, float]]:
    """{role: (RSS MB, PSS MB)} over this process's descendants (several processes of one role are numbered)."""
    out: dict[str, tuple[float, float]] = {}
    for proc in psutil.Process().children(recursive=True):
        try:
            name = label(proc, parts)
            mem = proc.memory_full_info()
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        key, n = name, 1
        while key in out:
            n += 1
            key = f"{name} #{n}"
        out[key] = (mem.rss / MB, mem.pss / MB)
    return out


def measure(seconds: float, warmup: float, every: float = 5.0) -> dict:
    """Start the stack as `make up` does, sample it under the demo's load, stop it; the peaks by role and in total."""
    sys.path.insert(0, str(ROOT))
    from scripts import servers, stack  # this checkout's stack (a baseline's worktree runs its own)

    servers.log_rotation = servers.LogRotation.from_env()
    run = Path(tempfile.mkdtemp(prefix="stack-memory-"))
    started = stack.Stack(stack.Ports.free(), run, stack.Settings.demo()).start()
    peaks: dict[str, list[float]] = {}
    totals: list[tuple[float, float]] = []
    try:
        parts = {server.proc.pid: name for name, server in started.parts.items()}
        t0 = time.monotonic()
        time.sleep(warmup)
        while time.monotonic() - t0 < seconds:
            now = sample(parts)
            for key, (rss, pss) in now.items():
                peak = peaks.setdefault(key, [0.0, 0.0])
                peak[0], peak[1] = max(peak[0], rss), max(peak[1], pss)
            totals.append((sum(r for r, _ in now.values()), sum(p for _, p in now.values())))
            print(f"  {time.monotonic() - t0:5.0f} s: {totals[-1][0]:.0f} MB RSS, {totals[-1][1]:.0f} MB PSS "
                  f"in {len(now)} processes", flush=True)
            time.sleep(every)
        locust = started.parts["locust"].log_text()
    finally:
        started.stop()
        shutil.rmtree(run, ignore_errors=True)
    return {"processes": peaks, "total_rss": max(t[0] for t in totals), "total_pss": max(t[1] for t in totals),
            "samples": len(totals), "seconds": seconds, "locust_errors": locust.count("Traceback")}


def measure_revision(rev: str, seconds: float, warmup: float) -> dict:
    """`measure` on the code of git revision `rev`, in a temporary worktree (this file copied in, as it may not exist there)."""
    tree = Path(tempfile.mkdtemp(prefix="stack-memory-baseline-"))
    subprocess.run(["git", "worktree", "add", "--detach", str(tree), rev], cwd=ROOT, check=True, capture_output=True)
    try:
        shutil.copy(__file__, tree / "bench" / "stack_memory.py")
        out = tree / "result.json"
        subprocess.run([sys.executable, "-m", "bench.stack_memory", "--seconds", str(seconds), "--warmup", str(warmup),
                        "--json", str(out)], cwd=tree, check=True, env={**os.environ, "PYTHONPATH": str(tree)})
        return json.loads(out.read_text())
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, capture_output=True)
        shutil.rmtree(tree, ignore_errors=True)


ORDER = ("service (supervisor)", "service (worker)", "locust", "exporter", "prometheus", "alertmanager", "webhook",
         "redis", "log rotation")


def table(after: dict, before: dict | None, before_name: str) -> str:
    keys = sorted(set(after["processes"]) | set((before or {}).get("processes", {})),
                  key=lambda k: (next((i for i, o in enumerate(ORDER) if k.startswith(o)), len(ORDER)), k))

    def cell(result: dict | None, key: str, i: int) -> str:
        value = (result or {}).get("processes", {}).get(key)
        return f"{value[i]:.1f}" if value else "–"

    if before is None:
        lines = ["| process | RSS MB | PSS MB |", "|---|---|---|"]
        lines += [f"| {k} | {cell(after, k, 0)} | {cell(after, k, 1)} |" for k in keys]
        lines.append(f"| **total (peak of the sum)** | **{after['total_rss']:.0f}** | **{after['total_pss']:.0f}** |")
        return "\n".join(lines)
    lines = [f"| process | RSS MB before ({before_name}) | RSS MB after | PSS MB before | PSS MB after |", "|---|---|---|---|---|"]
    lines += [f"| {k} | {cell(before, k, 0)} | {cell(after, k, 0)} | {cell(before, k, 1)} | {cell(after, k, 1)} |" for k in keys]
    lines.append(f"| **total (peak of the sum)** | **{before['total_rss']:.0f}** | **{after['total_rss']:.0f}** "
                 f"(×{after['total_rss'] / before['total_rss']:.2f}) | **{before['total_pss']:.0f}** | **{after['total_pss']:.0f}** |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=240, help="how long the demo's load runs (the drift starts at 60 s)")
    parser.add_argument("--warmup", type=float, default=30, help="seconds of load before the first sample")
    parser.add_argument("--baseline", help="a git revision to measure first, for the 'before' column")
    parser.add_argument("--before-json", type=Path, help="the 'before' column from an earlier --json result (instead of --baseline)")
    parser.add_argument("--before-name", default="", help="what the --before-json result measured (e.g. a revision)")
    parser.add_argument("--json", type=Path, help="only measure, and write the result here (no BENCHMARKS.md)")
    args = parser.parse_args(argv)
    if args.json:
        args.json.write_text(json.dumps(measure(args.seconds, args.warmup)))
        return
    from bench.report import write_section

    before = measure_revision(args.baseline, args.seconds, args.warmup) if args.baseline else None
    if args.before_json:
        before = json.loads(args.before_json.read_text())
    after = measure(args.seconds, args.warmup)
    rev = subprocess.run(["git", "rev-parse", "--short", args.baseline], cwd=ROOT, capture_output=True, text=True).stdout.strip() \
        if args.baseline else args.before_name
    text = (f"`python -m bench.stack_memory --seconds {args.seconds:g}`: the native stack as `make up` starts it (no Grafana), "
            f"Locust running the demo (20 rps on both models, the drift after 60 s), every process sampled every 5 s from "
            f"{args.warmup:g} s to {args.seconds:g} s of load. Each row is the process's peak RSS (what the issue counts) and "
            "PSS (shared pages split between processes); the total is the peak of the per-sample sum. Limit: "
            f"{SPEC_LIMIT_MB} MB RSS without Grafana (the spec's ~900 MB with Grafana's ~150 MB)."
            + (" Before and after were measured one after the other on the same machine, the 'before' on the older code in a "
               "worktree of its own with the same virtualenv and model store." if before else "") + "\n\n"
            + table(after, before, f"`{rev}`"))
    write_section("stack_memory", "Native stack memory (`bench/stack_memory.py`)", text)
    print(text)


if __name__ == "__main__":
    main()
