"""Exporter refresh cost for a 1-hour window at 100 and 1,000 rps, against a straightforward baseline, in one run.

    python -m bench.exporter [--rates 100 1000]

For each rate: publish one hour of predictions into a real redis-server in the service's format
(batches as the publisher flushes them: 200 ms apart), then time
  (1) our cold start: read the whole window and compute every figure (what a restart costs),
  (2) our steady-state refresh: one MONITORING_INTERVAL (30 s) of new samples, then a full set of figures,
  (3) the baseline: re-read the whole window, numpy PSI and scipy.stats.ks_2samp per feature.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import bentoml
import numpy as np
import redis
from scipy import stats

from bench.report import write_section
from bento_service.model_store import BOOSTER_FILE, load_booster, model_tag, predict_scores
from drift_client import redis_layout as layout
from drift_client.reference_profile import SCORE
from contracts.policy import Policy
from exporter.config import Config
from drift.detectors import REGISTRY
from drift.detectors.base import make
from exporter.monitor import Monitor
from drift.stats import psi
from scripts import servers
from scripts.samples import Publisher
from transactions import FEATURE_NAMES, LABEL, generate

INTERVAL = 30.0
FLUSH_SECONDS = 0.2
LABEL_RATE = 0.8  # share of predictions whose label comes back, posted in the same flush (the join's worst case)


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def publish_hour(pub: Publisher, rps: int, data: tuple[np.ndarray, np.ndarray, np.ndarray], seconds: float, tag: str) -> None:
    """`seconds` of traffic at `rps`, in flush-sized batches (ids unique per call), with labels for LABEL_RATE of it."""
    rows, scores, labels = data
    per_batch = max(1, int(rps * FLUSH_SECONDS))
    total = int(rps * seconds)
    pipe = pub.client.pipeline(transaction=False)
    for k, start in enumerate(range(0, total, per_batch)):
        idx = np.arange(start, min(start + per_batch, total)) % len(rows)
        ids = [f"{tag}-{start + j}" for j in range(len(idx))]
        now = np.full(len(idx), time.time())
        pipe.xadd(pub.keys.predictions, layout.encode_predictions(layout.PredictionBatch(ids, now, rows[idx], scores[idx])))
        back = (idx * 2654435761 % 1000) < LABEL_RATE * 1000
        pipe.xadd(pub.keys.labels, layout.encode_labels(layout.LabelBatch(
            [i for i, b in zip(ids, back) if b], now[back], labels[idx[back]])))
        if k % 500 == 499:
            pipe.execute()
            print(f"\r    published {start + len(idx):,}/{total:,}", end="", flush=True)
    pipe.execute()
    print(f"\r    published {total:,}/{total:,}", flush=True)


def baseline_refresh(client: redis.Redis, pub: Publisher) -> float:
    """Re-read the whole window and test every column from scratch."""
    started = time.perf_counter()
    batches = [layout.decode_predictions(f) for _, f in client.xrange(pub.keys.predictions)]
    data = np.column_stack([np.concatenate([b.features for b in batches]).astype(float),
                            np.concatenate([b.scores for b in batches]).astype(float)])
    for i, column in enumerate([*FEATURE_NAMES, SCORE]):
        bins = pub.profile.bins[column]
        counts = np.bincount(np.searchsorted(bins.edges, data[:, i], side="right"), minlength=len(bins.edges) + 1)
        psi(np.array(bins.proportions), counts)
        stats.ks_2samp(np.array(pub.profile.sample[column]), data[:, i])
    return time.perf_counter() - started


def measure(rate: int, log_dir: Path, data: tuple[np.ndarray, np.ndarray, np.ndarray]) -> dict:
    with servers.start_redis(log_dir) as redis_srv:
        client = redis.Redis.from_url(redis_srv.extra["url"])
        pub = Publisher(client, f"bench-{rate}")
        print(f"  {rate} rps: one hour = {rate * 3600:,} predictions", flush=True)
        publish_hour(pub, rate, data, 3600, "hour")
        rss_before = rss_mb()
        monitor = Monitor(Config(redis_url=redis_srv.extra["url"], policy=Policy(window_hours=1.0)), client)
        started = time.perf_counter()
        monitor.cycle()
        cold = time.perf_counter() - started
        rss_after = rss_mb()
        snap = monitor.snapshots[pub.keys.member]
        assert monitor.redis_up and snap.predictions == rate * 3600 and snap.labels > 0.7 * snap.predictions, snap.labels
        steady = []
        for k in range(3):
            publish_hour(pub, rate, data, INTERVAL, f"new{k}")
            started = time.perf_counter()
            monitor.cycle()
            steady.append(time.perf_counter() - started)
        print(f"    ours: cold {cold:.2f}s, refresh {np.median(steady):.3f}s; baseline...", flush=True)
        per_test = test_costs(monitor.tracked[pub.keys.member].window)
        base = [baseline_refresh(client, pub) for _ in range(2)]
        return {"rate": rate, "n": rate * 3600, "cold": cold, "steady": float(np.median(steady)),
                "baseline": float(np.median(base)), "rss": rss_after - rss_before, "redis_mb": client.info("memory")["used_memory"] / 2**20,
                "tests": per_test}


def test_costs(window, repeats: int = 20) -> dict[str, tuple[int, float]]:
    """Per drift test: (columns it applies to, ms to compute it on all of them from the window's counts). Every test
    reads counts only, so the cost does not grow with the window."""
    costs = {}
    for name in sorted(REGISTRY):
        test = make(name, Policy())
        columns = [window.column(f) for f in window.profile.features if window.column(f)[0].spec.kind in test.kinds]
        started = time.perf_counter()
        for _ in range(repeats):
            for reference, counts in columns:
                test.compute(reference, counts)
        costs[name] = (len(columns), (time.perf_counter() - started) / repeats * 1000)
    return costs


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rates", type=int, nargs="+", default=[100, 1000])
    args = parser.parse_args(argv)
    df = generate(200_000, seed=11)
    rows = df[list(FEATURE_NAMES)].to_numpy(np.float32)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        scores = predict_scores(load_booster(bentoml.models.get(model_tag()).path_of(BOOSTER_FILE)), rows)
        data = (rows, scores, df[LABEL].to_numpy().astype(np.uint8))
        for rate in args.rates:
            results.append(measure(rate, Path(tmp), data))
    lines = [
        "One full refresh of every figure (12 features + score: PSI, KS D and p, means, stds, attribution, performance) "
        f"for a 1-hour window; steady state adds {INTERVAL:.0f} s of new traffic per refresh (median of 3). "
        f"Labels come back for {LABEL_RATE:.0%} of the predictions and are joined by transaction id. "
        "Baseline: re-read the whole window from Redis, numpy PSI and `scipy.stats.ks_2samp` per column. "
        "Same Redis, same data, same process.",
        "",
        "| traffic | window | our refresh (steady) | baseline refresh | baseline / ours | our cold start (restart) | exporter RSS for the window | Redis memory |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(f"| {r['rate']:,} rps | {r['n']:,} predictions | {r['steady']:.3f} s | {r['baseline']:.2f} s | "
                     f"{r['baseline'] / r['steady']:.0f}x | {r['cold']:.2f} s | {r['rss']:.0f} MB | {r['redis_mb']:.0f} MB |")
    if len(results) >= 2:
        a, b = results[0], results[-1]
        lines += ["", f"Window {b['n'] / a['n']:.0f}x larger: our refresh {b['steady'] / a['steady']:.1f}x "
                  f"(it grows with the {INTERVAL:.0f} s of new samples), the baseline {b['baseline'] / a['baseline']:.1f}x."]
    lines += ["", "Cost of each drift test per refresh, from the window's counts (the fraud model's features of the kinds it "
              "applies to; mean of 20):", "", "| test | features | " + " | ".join(f"{r['rate']:,} rps" for r in results) + " |",
              "|---|---|" + "---|" * len(results)]
    for name in results[0]["tests"]:
        lines.append(f"| {name} | {results[0]['tests'][name][0]} | "
                     + " | ".join(f"{r['tests'][name][1]:.2f} ms" for r in results) + " |")
    write_section("exporter", "Exporter refresh cost (`bench/exporter.py`)", "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
