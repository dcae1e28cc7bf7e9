"""What each rule detects at every window size: the cases users reported missing, the old rule beside the new.

    python -m bench.detection_cases [--scale 1.0]

For windows of 500, 5,000, 50,000 and 360,000 transactions, draws independent windows of each case and, for
every window, an independent training draw as the reference (35,000 rows, as `make train`'s training split), so
that the reference's own sampling error is part of what is measured. A case counts as detected when its feature
is flagged (by a drift test or a data-quality check); stationary and harmless windows count when any feature is.

- old rule: before issue 16: every feature in 10 quantile bins, PSI + KS against a 5,000-row sample, family-wise
  level 0.05 over 12 features with D >= 0.07, rows with a missing value dropped, no data-quality checks;
- new rule: the exporter's defaults (contracts/policy.py): bins and tests by kind, the whole training column as
  the KS reference, its level and floors, missing and out-of-range checks.
Both run through the exporter's own code: ColumnReference.counts and ModelDetectors.judge.

Stationary and harmless windows get more draws (FALSE_ALARM_WINDOWS) than the detection cases, so that a rate of
at most 1% can be told apart from 2%: each is reported with its count and a 95% Clopper-Pearson upper bound, and the
new rule's false alarms are broken down by feature and test (which test is not valid shows there).
"""
from __future__ import annotations

import argparse
import time
from collections import Counter

import numpy as np
from scipy.stats import beta, kstwo

from bench.report import write_section
from contracts.policy import Policy
from drift_client.reference_profile import ReferenceProfile
from drift_client.schema import FeatureSpec, ModelSchema
from drift.detectors import FeatureVerdict, ModelDetectors
from drift.monitoring_config import MonitoringConfig
from drift.counts import ColumnReference
from transactions import FEATURE_NAMES, generate
from transactions.schema import SCHEMA

TRAINING_ROWS = 35_000
SIZES = {500: 150, 5_000: 150, 50_000: 40, 360_000: 10}  # windows per detection case
FALSE_ALARM_WINDOWS = {500: 400, 5_000: 400, 50_000: 100, 360_000: 25}  # stationary and harmless +2%
FALSE_ALARM_CASES = ("stationary", "harmless +2% amount")
SHIFTS = ("harmless +2% amount", "amount +10%")  # the amount's D is kept for these
LEVELS = (0.01, 0.005, 0.003)  # family-wise levels compared in the D table
OLD_POLICY = Policy(family_wise_level=0.05, ks_min_statistic=0.07, quality_level_share=0.0)  # no quality checks then
COLUMN = {f: i for i, f in enumerate(FEATURE_NAMES)}


def shift_amount(scale: float):
    return lambda x, rng: _set(x, "amount", x[:, COLUMN["amount"]] * scale)


def _set(x: np.ndarray, feature: str, values: np.ndarray) -> np.ndarray:
    x[:, COLUMN[feature]] = values
    return x


def binary_up(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """is_online +6 percentage points."""
    col = x[:, COLUMN["is_online"]]
    zeros = np.flatnonzero(col == 0)
    col[rng.choice(zeros, size=int(0.06 * len(col)), replace=False)] = 1
    return x


def binary_down(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    col = x[:, COLUMN["is_online"]]
    ones = np.flatnonzero(col == 1)
    col[rng.choice(ones, size=int(0.06 * len(col)), replace=False)] = 0
    return x


def unit_error(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """5% of amounts in cents instead of dollars (x100)."""
    rows = rng.random(len(x)) < 0.05
    x[rows, COLUMN["amount"]] *= 100
    return x


def below_minimum(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """10% of account ages -1 (a sentinel for unknown), under anything seen in training."""
    x[rng.random(len(x)) < 0.10, COLUMN["account_age_days"]] = -1
    return x


def missing(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """30% of distance_from_home_km missing."""
    x[rng.random(len(x)) < 0.30, COLUMN["distance_from_home_km"]] = np.nan
    return x


def burst(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Half of the holders with 1 transaction in the hour now have 3 (a card-testing burst)."""
    col = x[:, COLUMN["txn_count_1h"]]
    col[(col == 1) & (rng.random(len(col)) < 0.5)] = 3
    return x


CASES = {  # name -> (feature that must be flagged or None for "nothing may be", how the window is changed)
    "stationary": (None, lambda x, rng: x),
    "harmless +2% amount": (None, shift_amount(1.02)),
    "amount +10%": ("amount", shift_amount(1.10)),
    "amount +15%": ("amount", shift_amount(1.15)),
    "is_online +6 pp": ("is_online", binary_up),
    "is_online -6 pp": ("is_online", binary_down),
    "5% of amounts x100": ("amount", unit_error),
    "10% account age -1": ("account_age_days", below_minimum),
    "30% distance missing": ("distance_from_home_km", missing),
    "txn_count_1h burst 1 -> 3": ("txn_count_1h", burst),
}


def references(seed: int) -> dict[str, dict[str, ColumnReference]]:
    """An independent training draw, profiled the old way and the new way."""
    train = generate(TRAINING_ROWS, seed=seed)[list(FEATURE_NAMES)].to_numpy(np.float32)
    common = dict(model_name="fraud_detector", model_version="bench", trained_at="", features=list(FEATURE_NAMES),
                  metrics={}, train=train, scores=np.linspace(0, 1, 1000), labels=np.zeros(1), importance={})
    all_numeric = ModelSchema(tuple(FeatureSpec(f, "numeric") for f in FEATURE_NAMES))
    old = ReferenceProfile.build(**common, schema=all_numeric, sample_size=5000, seed=seed)
    new = ReferenceProfile.build(**common, schema=SCHEMA, seed=seed)
    return {"old": {f: ColumnReference.of(old, f) for f in FEATURE_NAMES},
            "new": {f: ColumnReference.of(new, f) for f in FEATURE_NAMES}}


OLD_TESTS = MonitoringConfig(tests_by_kind={"numeric": ("psi", "ks")})  # the old rule had no quantile shift
JUDGES = {"old": ModelDetectors("fraud_detector", ModelSchema(tuple(FeatureSpec(f, "numeric") for f in FEATURE_NAMES)), OLD_POLICY,
                                OLD_TESTS),
          "new": ModelDetectors("fraud_detector", SCHEMA, Policy())}


def judge(rule: str, refs: dict[str, ColumnReference], x: np.ndarray) -> dict[str, FeatureVerdict]:
    if rule == "old":  # the old window dropped every row with a missing value
        x = x[np.isfinite(x).all(axis=1)]
    return JUDGES[rule].judge({f: (refs[f], refs[f].counts(x[:, i])) for i, f in enumerate(FEATURE_NAMES)})


def flagged(rule: str, verdicts: dict[str, FeatureVerdict]) -> dict[str, list[str]]:
    """Each flagged feature with what flagged it (its drift tests, then its data-quality checks)."""
    found = {}
    for f, v in verdicts.items():
        causes = list(v.flagged_by)
        if rule == "new":
            causes += [name for name, check in v.quality.items() if check.flagged] + (["all missing"] if v.all_missing else [])
        if causes:
            found[f] = causes
    return found


def upper_bound(hits: int, n: int) -> float:
    """95% one-sided Clopper-Pearson upper bound of a rate seen hits times in n."""
    return 1.0 if hits >= n else float(beta.ppf(0.95, hits + 1, n - hits))


def lower_bound(hits: int, n: int) -> float:
    return 0.0 if hits == 0 else float(beta.ppf(0.05, hits, n - hits + 1))


def run(scale: float) -> tuple[list[tuple], Counter, dict[tuple[int, str], list[float]]]:
    """(size, case, windows, old hits, new hits) per size and case, the new rule's false alarms by cause, and the
    amount's KS D in the amount shift cases (what the floor and the level are chosen from)."""
    rows, causes, distances, seed = [], Counter(), {}, 50_000
    for size in SIZES:
        started = time.perf_counter()
        for case, (feature, change) in CASES.items():
            count = max(3, int((FALSE_ALARM_WINDOWS if case in FALSE_ALARM_CASES else SIZES)[size] * scale))
            hits = {"old": 0, "new": 0}
            for _ in range(count):
                seed += 2
                refs = references(seed)
                rng = np.random.default_rng(seed + 1)
                x = change(generate(size, seed=seed + 1)[list(FEATURE_NAMES)].to_numpy(np.float32).astype(float), rng)
                for rule in hits:
                    verdicts = judge(rule, refs[rule], x)
                    found = flagged(rule, verdicts)
                    hits[rule] += bool(found) if feature is None else feature in found
                    if rule == "new" and feature is None:
                        causes.update((size, case, f, cause) for f, fc in found.items() for cause in fc)
                    if rule == "new" and case in SHIFTS:
                        for test in ("ks", "quantile_shift"):
                            distances.setdefault((size, case, test), []).append(verdicts["amount"].results[test].statistic)
            rows.append((size, case, count, hits["old"], hits["new"]))
            print(f"  {size:>7,}  {case:<28} {count:4} windows  old {hits['old'] / count:6.1%}  new {hits['new'] / count:6.1%}",
                  flush=True)
        print(f"  ({size:,}-row windows took {time.perf_counter() - started:.0f} s)", flush=True)
    return rows, causes, distances


def critical_d(level: float, n: int, m: int = TRAINING_ROWS) -> float:
    """The KS D a window of n rows needs to be significant at `level` against m training rows."""
    return float(kstwo.isf(level, round(n * m / (n + m))))


def distance_table(distances: dict[tuple[int, str], list[float]], policy: Policy) -> list[str]:
    """The amount's D for the harmless and the +10% shift at each size, and where the rule's threshold lies."""
    per_test = policy.family_wise_level * (1 - policy.quality_level_share) / JUDGES["new"].family
    lines = ["**The amount's KS D, harmless +2% against +10%** (new rule's windows): a flag needs D at the critical value "
             f"of the corrected level ({per_test:.2g} per test) and at the floor {policy.ks_min_statistic:g}, whichever is "
             "higher; the last columns give the share of windows whose amount KS flags at other family-wise levels "
             "(+2% / +10%).", "",
             "| window | +2% median | +2% 99th pct | +2% max | +10% min | +10% 5th pct | +10% median | critical D | "
             + " | ".join(f"level {a:g}" for a in LEVELS) + " |", "|---|" + "---|" * (7 + len(LEVELS))]
    for size in SIZES:
        small, large = (np.array(distances.get((size, c, "ks"), [np.nan])) for c in SHIFTS)
        sweep = []
        for level in LEVELS:
            threshold = max(critical_d(level * (1 - policy.quality_level_share) / JUDGES["new"].family, size),
                            policy.ks_min_statistic)
            sweep.append(f"{np.mean(small >= threshold):.1%} / {np.mean(large >= threshold):.1%}")
        lines.append(f"| {size:,} | {np.median(small):.4f} | {np.percentile(small, 99):.4f} | {small.max():.4f} | "
                     f"{large.min():.4f} | {np.percentile(large, 5):.4f} | {np.median(large):.4f} | "
                     f"{critical_d(per_test, size):.4f} | " + " | ".join(sweep) + " |")
    return lines


def shift_table(distances: dict[tuple[int, str, str], list[float]], policy: Policy) -> list[str]:
    """The amount's quantile shift (mean log ratio of its 20th-80th percentiles) for the same windows."""
    lines = ["**The amount's quantile shift, harmless +2% against +10%** (same windows; log(1.02) = 0.0198, "
             f"log(1.10) = 0.0953): a flag needs Mann-Whitney significant and the shift at the floor "
             f"{policy.quantile_shift_min:g}; the sampling noise is its standard deviation over the +2% windows.", "",
             "| window | +2% median | +2% sd | +2% 99th pct | +2% max | +10% min | +10% 1st pct | +10% 5th pct | +10% median |",
             "|---|" + "---|" * 8]
    for size in SIZES:
        small, large = (np.array(distances.get((size, c, "quantile_shift"), [np.nan])) for c in SHIFTS)
        lines.append(f"| {size:,} | {np.median(small):.4f} | {np.std(small):.4f} | {np.percentile(small, 99):.4f} | "
                     f"{small.max():.4f} | {large.min():.4f} | {np.percentile(large, 1):.4f} | "
                     f"{np.percentile(large, 5):.4f} | {np.median(large):.4f} |")
    return lines


def cell(hits: int, n: int, false_alarm: bool) -> str:
    if false_alarm:  # the count and how high the rate could be
        return f"{hits / n:.1%} ({hits}/{n}, ≤ {upper_bound(hits, n):.1%})"
    return f"{hits / n:.0%}" if hits in (0, n) else f"{hits / n:.1%}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0, help="multiply the number of windows per size")
    rows, causes, distances = run(parser.parse_args(argv).scale)
    p = Policy()
    lines = [
        "Share of windows in which the case is detected (its feature flagged); for stationary and harmless windows, "
        "the share with any false alarm, its count and a 95% upper bound (Clopper-Pearson). Each window is judged "
        "against its own independent 35,000-row training draw. "
        f"Old rule: quantile bins, PSI >= {OLD_POLICY.psi_threshold:g} or KS p < 0.05/12 with D >= 0.07 against a 5,000-row sample, rows with "
        f"a missing value dropped. New rule (the defaults): tests by kind; one family-wise level {p.family_wise_level:g} per window "
        f"over every p-value test, {1 - p.quality_level_share:.0%} of it for the drift tests (KS against the whole training column, "
        f"D >= {p.ks_min_statistic:g}; for numeric features also Mann-Whitney with the quantile shift (mean log ratio of the "
        f"20th-80th percentiles, or their shift over the IQR) >= {p.quantile_shift_min:g}; chi-square with sparse bins pooled to an expected count of 10, at least "
        f"{p.chi2_min_effect:.0%} moved) and {p.quality_level_share:.0%} for the missing and out-of-range checks (exact tests, "
        f"at least {p.quality_min_share:.0%} above training). Targets: stationary and +2% in at most 1% of windows at every "
        "size; every other case in at least 95% from 5,000 rows up; never less often at a larger window.", "",
        "| case | " + " | ".join(f"{s:,} old | {s:,} new" for s in SIZES) + " |",
        "|---|" + "---|---|" * len(SIZES),
    ]
    for case in CASES:
        fa = case in FALSE_ALARM_CASES
        cells = [(cell(old, n, fa), cell(new, n, fa)) for size, c, n, old, new in rows if c == case]
        lines.append(f"| {case} | " + " | ".join(f"{o} | **{n}**" for o, n in cells) + " |")
    detect = sorted({(r[0], r[2]) for r in rows if r[1] not in FALSE_ALARM_CASES})
    fa = sorted({(r[0], r[2]) for r in rows if r[1] in FALSE_ALARM_CASES})
    lines += ["", "Windows per case: " + ", ".join(f"{c} at {s:,}" for s, c in detect)
              + "; stationary and harmless: " + ", ".join(f"{c} at {s:,}" for s, c in fa) + "."]
    worst = [(size, case, new, n) for size, case, n, _, new in rows if case not in FALSE_ALARM_CASES and size >= 5_000]
    if worst:
        size, case, new, n = min(worst, key=lambda w: (w[2] / w[3], w[3]))
        lines += [f"Lowest detection from 5,000 rows up: {case} at {size:,} rows, {new}/{n} "
                  f"(95% lower bound {lower_bound(new, n):.1%})."]
    lines += ["", *distance_table(distances, p), "", *shift_table(distances, p)]
    lines += ["", "**The new rule's false alarms by cause** (feature and test or check; a window may count more than once):", ""]
    if causes:
        lines += ["| window | case | feature | flagged by | windows |", "|---|---|---|---|---|"]
        lines += [f"| {s:,} | {c} | {f} | {t} | {k} |" for (s, c, f, t), k in sorted(causes.items())]
    else:
        lines.append("none.")
    write_section("detection_cases", "What is detected at every window size, old rule and new (`bench/detection_cases.py`)",
                  "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
