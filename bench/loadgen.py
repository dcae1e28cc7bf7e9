"""Achieved vs requested Locust rate against the real service (with real Redis), side by side in one run.

    python -m bench.loadgen [--seconds 30] [--rates 10 100]
"""
from __future__ import annotations

import argparse
import csv
import subprocess
import tempfile
from pathlib import Path

from bench.report import write_section
from scripts import servers


def run(service_url: str, rps: float, seconds: int, out: Path) -> dict:
    cmd = [str(servers.BIN / "locust"), "-f", "loadgen/locustfile.py", "--headless", "--host", service_url,
           "--scenario", "baseline", "--rps", str(rps), "-t", f"{seconds}s", "--label-rate", "0.8", "--label-delay", "2",
           "--csv", str(out), "--only-summary"]
    subprocess.run(cmd, cwd=servers.ROOT, capture_output=True, text=True, timeout=seconds + 60, check=True)
    with open(f"{out}_stats.csv") as f:
        rows = {r["Name"]: r for r in csv.DictReader(f)}
    predict = rows["predict [baseline]"]
    return {"rps": rps, "achieved": float(predict["Requests/s"]), "requests": int(predict["Request Count"]),
            "failures": int(rows["Aggregated"]["Failure Count"]), "p50": float(predict["50%"]), "p95": float(predict["95%"]),
            "feedback": float(rows.get("feedback", {}).get("Requests/s", 0.0))}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--rates", type=float, nargs="+", default=[10, 100])
    args = parser.parse_args(argv)
    results = []
    with tempfile.TemporaryDirectory() as tmp, servers.start_redis(Path(tmp)) as redis_srv, \
            servers.start_service(Path(tmp), redis_srv.extra["url"], env={"SERVICE_ACCESS_LOG": "false"}) as svc:
        for rps in args.rates:
            print(f"  {rps:g} rps for {args.seconds} s", flush=True)
            results.append(run(svc.url, rps, args.seconds, Path(tmp) / f"r{rps:g}"))
    lines = [
        f"`locust -f loadgen/locustfile.py --headless --scenario baseline --rps R -t {args.seconds}s` against the real "
        "service (1 worker, real Redis), labels for 80% of predictions after 2 s. Achieved rate = Locust's predict requests/s "
        "over the whole run (spawning included); latencies as Locust sees them (its process shares the 2 cores).",
        "",
        "| requested rps | achieved rps | achieved / requested | predictions | failures | feedback rps | p50 ms | p95 ms |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(f"| {r['rps']:g} | {r['achieved']:.1f} | {r['achieved'] / r['rps']:.1%} | {r['requests']:,} | {r['failures']} | "
                     f"{r['feedback']:.1f} | {r['p50']:.0f} | {r['p95']:.0f} |")
    write_section("loadgen", "Load generator rate (`bench/loadgen.py`)", "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
