"""Redis durability: what a `kill -9` of Redis under 100 rps costs the exporter's window, and what the append-only
file costs the publisher at 1,000 samples/s; AOF off and `appendfsync everysec` side by side in one run.

    python -m bench.redis_durability [--rps 100] [--seconds 40] [--publish-seconds 20]

Part 1 (real service, real exporter, Redis with a password as `make up` runs it): paced predictions for `--seconds`;
half-way Redis is killed with SIGKILL and restarted at once on the same port and data. An *acknowledged* sample is one
the service counted published (`ml_monitoring_samples_total{outcome="published"}`: Redis answered the write). After the
run a fresh exporter (no memory of its own) reads the window from Redis: acknowledged minus what it sees is what the
restart lost. Samples sent while Redis was down are counted dropped by the service, not acknowledged.

Part 2 (the service's own SamplePublisher, in process): 1,000 predictions/s flushed every 200 ms as the service does
(200-sample batches), then back-to-back 512-sample flushes for the throughput ceiling; the two Redis servers are
measured in alternating rounds (ABBA) so that both see the same machine.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import bentoml
import numpy as np

from bench.loadclient import fixed_rate, post_request
from bench.report import write_section
from bento_service.model_store import PROFILE_FILE, model_tag
from drift_client.publisher import PublisherConfig, SamplePublisher
from drift_client import redis_layout as layout
from scripts import servers
from scripts.probes import http, series, wait_for
from transactions import FEATURE_NAMES, generate

QUIET = {"SERVICE_ACCESS_LOG": "false"}
MODES = {"AOF off": False, "AOF everysec": True}


@dataclass
class KillResult:
    mode: str
    sent: int
    acknowledged: int
    dropped: int
    seen_by_running_exporter: int
    seen_after_restart: int
    outage_seconds: float

    @property
    def lost(self) -> int:
        return self.acknowledged - self.seen_after_restart


def requests_for(n: int, run: str) -> list[bytes]:
    df = generate(n, seed=99)
    return [post_request("127.0.0.1", 0, "/api/v1/predict",
                         {"transaction_id": f"{run}-{i}", "features": {k: float(df[k].iloc[i]) for k in FEATURE_NAMES}})
            for i in range(n)]


def window_predictions(exporter: servers.Server) -> int:
    status, body = http("GET", f"{exporter.url}/api/v1/monitoring/drift/latest")
    return body["models"][0]["predictions"] if status == 200 and body["models"] else 0


def settled(read, timeout: float = 30.0) -> int:
    """The value `read()` returns once it stops changing (two equal reads 2 s apart)."""
    deadline, last = time.monotonic() + timeout, -1
    while time.monotonic() < deadline:
        value = read()
        if value == last and value > 0:
            return value
        last = value
        time.sleep(2)
    return last


def kill_and_restart(tmp: Path, mode: str, appendonly: bool, rps: float, seconds: float) -> KillResult:
    """Part 1 for one persistence mode."""
    logs = tmp / mode.replace(" ", "-")
    password = servers.ensure_secret(logs / "secrets" / "redis_password")
    options = servers.RedisOptions(password_file=password, appendonly=appendonly, data_dir=logs / "redis-data",
                                   maxmemory="1gb")
    redis_srv = servers.start_redis(logs, options=options)
    env = {**redis_srv.extra["client_env"], **QUIET}
    exporter_env = {**redis_srv.extra["client_env"], "MONITORING_INTERVAL": "1", "DRIFT_WINDOW_HOURS": "1"}
    requests = requests_for(int(rps * seconds), mode.replace(" ", ""))
    outage = {}
    try:
        with servers.start_service(logs, env["REDIS_URL"], env=env) as svc, \
                servers.start_exporter(logs, env["REDIS_URL"], env=exporter_env) as exporter:

            def crash() -> None:
                started = time.monotonic()
                redis_srv.kill()  # SIGKILL: no shutdown, no final fsync
                outage["server"] = servers.restart_redis(redis_srv)
                outage["seconds"] = time.monotonic() - started

            timer = threading.Timer(seconds / 2, crash)
            timer.start()
            run = asyncio.run(fixed_rate("127.0.0.1", svc.port, requests, rps, seconds))
            timer.join()
            time.sleep(1.5)  # the publisher's last flush and any unresolved batch
            metrics = http("GET", f"{svc.url}/metrics")[1]
            acknowledged = int(series(metrics, "ml_monitoring_samples_total", outcome="published"))
            dropped = int(series(metrics, "ml_monitoring_samples_total", outcome="dropped"))
            running = settled(lambda: window_predictions(exporter))
        with servers.start_exporter(logs, env["REDIS_URL"], env=exporter_env) as fresh:
            after = settled(lambda: window_predictions(fresh))
        return KillResult(mode, len(run.latencies_ms) + run.errors, acknowledged, dropped, running, after,
                          outage.get("seconds", float("nan")))
    finally:
        outage.get("server", redis_srv).stop()


def publisher_for(url: str, password: Path, reference_json: str) -> SamplePublisher:
    """The service's publisher (its thread not started: flushes are timed one by one), authenticated in the URL."""
    keys = layout.Keys("fraud_detector", "bench")
    authenticated = url.replace("redis://", f"redis://:{password.read_text().strip()}@")
    return SamplePublisher(PublisherConfig(redis_url=authenticated, flush_size=10**9, max_buffered=10**9,
                                           socket_timeout=2.0), keys, reference_json)


def paced_flushes(publisher: SamplePublisher, rows: np.ndarray, rate: float, seconds: float, interval: float = 0.2) -> list[float]:
    """`rate` predictions/s, buffered and flushed every `interval` s as the service's publisher thread does; flush ms."""
    per_flush, latencies, n = int(rate * interval), [], 0
    start = time.perf_counter()
    for k in range(int(seconds / interval)):
        delay = start + (k + 1) * interval - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        ids = [f"p{n + i}" for i in range(per_flush)]
        publisher.add_predictions(ids, rows[:per_flush], np.full(per_flush, 0.1))
        n += per_flush
        t = time.perf_counter()
        publisher.flush()
        latencies.append((time.perf_counter() - t) * 1000)
    return latencies


def flat_out(publisher: SamplePublisher, rows: np.ndarray, seconds: float, batch: int = 512) -> float:
    """Back-to-back flushes of `batch` predictions: samples/s."""
    start, n = time.perf_counter(), 0
    while time.perf_counter() - start < seconds:
        publisher.add_predictions([f"f{n + i}" for i in range(batch)], rows[:batch], np.full(batch, 0.1))
        publisher.flush()
        n += batch
    return n / (time.perf_counter() - start)


def aof_size(publisher: SamplePublisher) -> int:
    """Bytes of the append-only file (0 with AOF off)."""
    return int(publisher._client.info("persistence").get("aof_current_size", 0))


def redis_cpu_seconds(server: servers.Server) -> float:
    fields = Path(f"/proc/{server.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100  # utime + stime, clock ticks of 1/100 s


def aof_cost(tmp: Path, rate: float, seconds: float, rounds: int = 4) -> dict[str, dict[str, float]]:
    """Part 2: flush latency at `rate` predictions/s, throughput ceiling, Redis CPU and AOF growth, per mode."""
    with open(bentoml.models.get(model_tag()).path_of(PROFILE_FILE)) as f:
        reference_json = f.read()
    rows = generate(1024, seed=3)[list(FEATURE_NAMES)].to_numpy(np.float32)
    started, results = {}, {m: {"latencies": [], "flat": [], "cpu": 0.0, "aof_growth": 0.0} for m in MODES}
    try:
        for mode, appendonly in MODES.items():
            logs = tmp / f"cost-{mode.replace(' ', '-')}"
            password = servers.ensure_secret(logs / "secrets" / "redis_password")
            srv = servers.start_redis(logs, options=servers.RedisOptions(password_file=password, appendonly=appendonly,
                                                                         data_dir=logs / "data", maxmemory="1gb"))
            started[mode] = (srv, publisher_for(srv.extra["url"], password, reference_json))
        order = list(MODES)
        for r in range(rounds):
            for mode in order if r % 2 == 0 else order[::-1]:
                srv, publisher = started[mode]
                cpu, aof = redis_cpu_seconds(srv), aof_size(publisher)
                results[mode]["latencies"] += paced_flushes(publisher, rows, rate, seconds / rounds)
                results[mode]["cpu"] += redis_cpu_seconds(srv) - cpu
                results[mode]["aof_growth"] += aof_size(publisher) - aof
                results[mode]["flat"].append(flat_out(publisher, rows, 2.0))
                print(f"    round {r + 1}/{rounds} {mode}: flush p50 {np.median(results[mode]['latencies']):.2f} ms", flush=True)
        summary = {}
        for mode, (srv, publisher) in started.items():
            lat = np.array(results[mode]["latencies"])
            summary[mode] = {"p50": float(np.quantile(lat, .5)), "p99": float(np.quantile(lat, .99)), "max": float(lat.max()),
                             "flat": float(np.median(results[mode]["flat"])),
                             "cpu_share": results[mode]["cpu"] / seconds,
                             "aof_mib_per_hour": results[mode]["aof_growth"] / seconds * 3600 / 2**20}
        return summary
    finally:
        for srv, _ in started.values():
            srv.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rps", type=float, default=100.0)
    parser.add_argument("--seconds", type=float, default=40.0)
    parser.add_argument("--publish-rate", type=float, default=1000.0)
    parser.add_argument("--publish-seconds", type=float, default=20.0)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        kills = []
        for mode, appendonly in MODES.items():
            print(f"[part 1] {mode}: {args.rps:.0f} rps for {args.seconds:.0f} s, Redis killed -9 half-way", flush=True)
            kills.append(kill_and_restart(Path(tmp), mode, appendonly, args.rps, args.seconds))
            print(f"    {kills[-1]}", flush=True)
        print(f"[part 2] {args.publish_rate:.0f} predictions/s through the publisher, AOF off vs everysec", flush=True)
        cost = aof_cost(Path(tmp), args.publish_rate, args.publish_seconds)
    body = render(kills, cost, args)
    write_section("redis_durability", "Redis durability: kill -9 under load, and the cost of AOF (`bench/redis_durability.py`)", body)
    print(body)
    print(json.dumps(cost, indent=2))


def render(kills: list[KillResult], cost: dict[str, dict[str, float]], args: argparse.Namespace) -> str:
    lines = [
        f"**Redis killed with SIGKILL and restarted at once, under {args.rps:.0f} predictions/s** ({args.seconds:.0f} s of "
        "paced `/api/v1/predict` calls to the real service, kill half-way; Redis with a password as `make up` runs it). "
        "Acknowledged: counted published by the service (Redis answered the write). Seen after restart: the window "
        "of a fresh exporter started after the run, i.e. what Redis still holds.",
        "",
        "| Redis | requests sent | acknowledged | dropped (Redis down) | running exporter's window | fresh exporter's window | acknowledged but lost | kill to restarted |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for k in kills:
        lines.append(f"| {k.mode} | {k.sent:,} | {k.acknowledged:,} | {k.dropped:,} | {k.seen_by_running_exporter:,} | "
                     f"{k.seen_after_restart:,} | **{k.lost:,}** | {k.outage_seconds:.2f} s |")
    off, on = cost["AOF off"], cost["AOF everysec"]
    lines += [
        "",
        f"**AOF's cost at {args.publish_rate:,.0f} predictions/s** (the service's `SamplePublisher` in process: a flush "
        f"every 200 ms of {int(args.publish_rate * 0.2)} predictions, {args.publish_seconds:.0f} s per mode in alternating "
        "rounds; then back-to-back flushes of 512 for the ceiling).",
        "",
        "| Redis | flush p50 ms | flush p99 ms | flush max ms | ceiling, predictions/s | redis-server CPU at the paced rate | AOF growth at the paced rate |",
        "|---|---|---|---|---|---|---|",
    ]
    for mode, c in cost.items():
        lines.append(f"| {mode} | {c['p50']:.2f} | {c['p99']:.2f} | {c['max']:.2f} | {c['flat']:,.0f} | "
                     f"{c['cpu_share']:.1%} of a core | {c['aof_mib_per_hour']:,.0f} MiB/h |")
    lines += [
        "",
        f"everysec vs off: flush p50 {on['p50'] / off['p50']:.2f}x, p99 {on['p99'] / off['p99']:.2f}x, ceiling "
        f"{on['flat'] / off['flat']:.2f}x. With `appendfsync everysec` Redis writes each command to the AOF before it "
        "answers and fsyncs once a second in a background thread: a killed Redis process loses no acknowledged write "
        "(the page cache keeps it); only a crash of the whole machine can lose up to the last second. The AOF grows "
        "until Redis rewrites it (at twice its size after the last rewrite, `auto-aof-rewrite-percentage 100`): the "
        "streams are trimmed to the retention, so the rewritten file stays near the data's size in memory.",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
