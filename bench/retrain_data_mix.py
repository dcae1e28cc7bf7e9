"""Does a retrained challenger beat the champion after a sudden concept change? It depends on how much of what
retraining learns from is already the new concept. Writes the "retrain-data-mix" section of BENCHMARKS.md.

Retraining (retrain/selection.py) learns from the last hours of labelled traffic, the old concept included. Each case
below is a number of old-concept rows (`baseline` scenario) followed by new-concept rows (`concept`), split by time
and trained exactly as retraining does (`split_by_time`, `training_frame`, `fit_booster`); the challenger and the
served champion then score a fresh window of new-concept traffic (1,700 labelled rows: the retraining test's 54 s
window at 32 labelled predictions a second), and the promotion rule of that test (PROMOTION_MIN_LABELLED 1,000,
PROMOTION_MIN_POSITIVES 30, DeLong's interval above 0) says whether the challenger wins. The cases are the retraining
test's settings before and after it changed (tests/e2e/test_retrain_loop.py), the retraining demo's, and the ends.
"""
from __future__ import annotations

import os
import sys

import numpy as np

from bench.report import write_section

SEEDS = int(os.environ.get("RETRAIN_MIX_SEEDS", "200"))
LIVE_ROWS = 1700
LABELLED_PER_SECOND = 32  # 40 predictions/s, 80% labelled
CASES = [  # (what, seconds of old concept, seconds of new concept before retraining starts)
    ("retraining test before: 50 s baseline, alert `for:` 30 s", 50, 38),
    ("retraining test now: 40 s baseline, alert `for:` 60 s", 40, 68),
    ("`DEMO_RETRAIN=1 make up`: 60 s baseline, `for:` 1m", 60, 68),
    ("new concept only", 0, 68),
    ("a third new concept", 136, 68),
]


def one_case(old_rows: int, new_rows: int, seed: int, champion, rule) -> tuple[bool, float]:
    """(challenger wins, the ROC AUC difference's lower bound) for one draw of the traffic."""
    from bento_service.model_store import predict_scores
    from bento_service.registry import FRAUD
    from bento_service.train import fit_booster
    from drift.comparison import compare_paired
    from exporter.labelled_traffic import LabelledTraffic
    from retrain.selection import SelectionPolicy, split_by_time
    from retrain.job import training_frame
    import pandas as pd

    parts = [FRAUD.generate(old_rows, seed=10_000 + seed, scenario="baseline")] if old_rows else []
    data = pd.concat([*parts, FRAUD.generate(new_rows, seed=20_000 + seed, scenario="concept")], ignore_index=True)
    x = FRAUD.schema.encode_frame(data)
    traffic = LabelledTraffic([str(i) for i in range(len(data))], np.arange(len(data), dtype=float), x,
                              data[FRAUD.label].to_numpy().astype(np.uint8))
    policy = SelectionPolicy(min_rows=0, min_positives=0)
    frame, tr, va, _ = training_frame(FRAUD, split_by_time(traffic, policy), policy)
    challenger = fit_booster(FRAUD.schema.encode_frame(frame), frame[FRAUD.label].to_numpy(), tr, va,
                             list(FRAUD.feature_names))
    live = FRAUD.generate(LIVE_ROWS, seed=30_000 + seed, scenario="concept")
    xl = FRAUD.schema.encode_frame(live)
    comparison = compare_paired(live[FRAUD.label].to_numpy(), predict_scores(champion, xl), challenger.inplace_predict(xl))
    return rule.challenger_wins(comparison), comparison.ci_lower


def served_champion():
    import bentoml

    from bento_service.model_store import BOOSTER_FILE, load_booster, model_tag
    from bento_service.registry import FRAUD
    return load_booster(bentoml.models.get(model_tag(FRAUD.name)).path_of(BOOSTER_FILE))


def main() -> None:
    from drift.comparison import PromotionRule

    champion, rule = served_champion(), PromotionRule(min_labelled=1000, min_positives=30)
    rows = []
    for what, old_seconds, new_seconds in CASES:
        old_rows, new_rows = old_seconds * LABELLED_PER_SECOND, new_seconds * LABELLED_PER_SECOND
        outcomes = []
        for seed in range(SEEDS):
            outcomes.append(one_case(old_rows, new_rows, seed, champion, rule))
            print(f"\r{what}: {seed + 1}/{SEEDS}", end="", file=sys.stderr, flush=True)
        print(file=sys.stderr)
        wins = sum(w for w, _ in outcomes)
        lower = np.array([b for _, b in outcomes])
        rows.append(f"| {what} | {old_rows:,} | {new_rows:,} | {new_rows / (old_rows + new_rows):.0%} | {wins}/{SEEDS} "
                    f"| {np.mean(lower < 0.02):.1%} | {np.percentile(lower, 5):.3f} | {np.median(lower):.3f} |")
    write_section("retrain-data-mix", "Retraining after a concept change: the share of new-concept rows (`bench/retrain_data_mix.py`)", "\n".join([
        f"{SEEDS} draws per case; each trains a challenger as retraining does on old-concept rows followed by "
        f"new-concept rows, then compares it with the served champion on a fresh window of {LIVE_ROWS:,} new-concept "
        "labelled rows (paired DeLong, 95%; wins = the promotion rule of the retraining test: 1,000 labelled, 30 "
        "frauds, the whole interval above 0). A lower bound under 0.02 is a win that flickers from one exporter "
        "refresh to the next and may never hold for the promotion's hold time.",
        "",
        "| case | old-concept rows | new-concept rows | new share | challenger wins | lower bound < 0.02 "
        "| lower bound, 5th percentile | median |",
        "|---|---|---|---|---|---|---|---|",
        *rows,
        "",
        "Retraining learns what most of its rows say: with under half of them from the new concept, the challenger's "
        "margin over a champion that the change has made no better than chance shrinks, and its win flickers or is "
        "lost in some draws (the column \"lower bound < 0.02\"). After a sudden change, retrain on a lookback that the new "
        "concept fills (`python -m retrain train --hours`, or RETRAIN_ARGS for the webhook), or let the alert's "
        "`for:` gather more of it first.",
    ]))


if __name__ == "__main__":
    main()
