"""Detection quality of the drift rule over many seeded windows, against two common rules.

    python -m bench.detection [--windows 200] [--only fraud|logins]

For each window size and traffic kind, draws independent windows from `transactions.generate`
and tests all 12 features against the trained model's reference profile. A window "alarms"
when any feature is flagged. Rules compared:
  ours:        the exporter's detectors (drift/detectors/) with the policy's defaults (contracts/policy.py):
               PSI + KS on numeric features, PSI + chi-square on discrete and binary ones
  before kinds: the same with PSI + KS on every feature (the rule before feature kinds were declared)
  KS p<0.05:   plain uncorrected KS on each feature
  PSI alone:   the policy's PSI threshold alone (the spec's rule)

The login model (its own section): each test alone, Bonferroni over the features it applies to, on stationary
login windows (false alarms) and on the categorical scenarios unseen_country and mobile_surge (detections).
"""
from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

import bentoml
import numpy as np
from scipy.stats import binomtest

from bench.report import write_section
import logins
from bento_service.model_store import PROFILE_FILE, model_tag
from bento_service.registry import LOGIN_RISK
from drift_client.reference_profile import ReferenceProfile
from contracts.policy import TESTS_BY_KIND, Policy
from drift.detectors import ModelDetectors
from drift.detectors.base import make
from drift.monitoring_config import MonitoringConfig
from drift.counts import ColumnReference
from transactions import FEATURE_NAMES, generate, get_scenario

HARMLESS = replace(get_scenario("covariate"), name="harmless", amount_scale=1.02, distance_scale=1.02)
KINDS = {"stationary": "baseline", "harmless +2%": HARMLESS, "covariate": "covariate", "spec drift": "spec_drift"}
RULES = ("ours", "before kinds", "KS p<0.05", "PSI alone")
TESTS = ("psi", "ks", "chi2", "jensen_shannon", "wasserstein")
DISCRETE = ("hour_of_day", "txn_count_1h", "is_online")


def load_profile(name: str | None = None) -> ReferenceProfile:
    with open(bentoml.models.get(model_tag(name) if name else model_tag()).path_of(PROFILE_FILE)) as f:
        return ReferenceProfile.from_json(f.read())


def window_flags(refs: dict[str, ColumnReference], judges: dict[str, ModelDetectors], x: np.ndarray,
                 policy: Policy) -> dict[str, set[str]]:
    """The features each rule flags in one window (ours and the previous rule through the exporter's own detectors)."""
    columns = {f: (refs[f], refs[f].counts(x[:, i])) for i, f in enumerate(FEATURE_NAMES)}
    flags = {rule: {f for f, v in judge.judge(columns).items() if v.drifted} for rule, judge in judges.items()}
    verdicts = judges["ours"].judge(columns)
    flags["KS p<0.05"] = {f for f, (r, c) in columns.items() if r.ks.test(c.slots)[1] < 0.05}
    flags["PSI alone"] = {f for f, v in verdicts.items() if v.psi >= policy.psi_threshold}
    return flags


def test_rates(refs: dict[str, ColumnReference], x: np.ndarray, policy: Policy) -> tuple[dict[str, bool], dict[tuple[str, str], float]]:
    """For one stationary window: whether each test alone (Bonferroni over the features it applies to) flags any
    feature, and the uncorrected p-value of KS and chi-square on each discrete feature."""
    counts = {f: refs[f].counts(x[:, i]) for i, f in enumerate(FEATURE_NAMES)}
    alarms = {}
    for name in TESTS:
        test = make(name, policy)
        applies = [f for f in FEATURE_NAMES if refs[f].spec.kind in test.kinds]
        alarms[name] = any(test.flags(test.compute(refs[f], counts[f]), tests=len(applies)) for f in applies)
    pvalues = {(f, name): make(name, policy).compute(refs[f], counts[f]).pvalue for f in DISCRETE for name in ("ks", "chi2")}
    return alarms, pvalues


def plot(rows: list) -> None:
    """docs/detection.png: alarm rate against window size, one panel per kind of traffic."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(KINDS), figsize=(14, 3.2), sharey=True)
    for ax, kind in zip(axes, KINDS):
        sizes = [r[0] for r in rows if r[1] == kind]
        for rule in RULES:
            ax.plot(sizes, [100 * r[3][rule] for r in rows if r[1] == kind], marker="o", label=rule)
        ax.set_xscale("log")
        ax.set_title(kind + (" (should alarm)" if kind in ("covariate", "spec drift") else " (should not)"))
        ax.set_xlabel("window (samples)")
    axes[0].set_ylabel("windows alarming, %")
    axes[0].legend()
    fig.tight_layout()
    out = Path(__file__).resolve().parents[1] / "docs" / "detection.png"
    out.parent.mkdir(exist_ok=True)
    fig.savefig(out, dpi=90)


LOGIN_TRAFFIC = {"stationary": "baseline", "unseen_country": "unseen_country", "mobile_surge": "mobile_surge"}
LOGIN_TESTS = ("psi", "chi2", "jensen_shannon", "wasserstein", "ks")
LOGIN_RULE = "ours (defaults)"
STATIONARY_FACTOR = 10  # stationary windows per drifted window of the same size


def clopper_pearson(successes: int, trials: int) -> tuple[float, float]:
    """The exact (Clopper-Pearson) 95% interval of a binomial proportion."""
    interval = binomtest(successes, trials).proportion_ci(0.95, method="exact")
    return interval.low, interval.high


def login_window_alarms(refs: dict[str, ColumnReference], judge: ModelDetectors, x: np.ndarray,
                        policy: Policy) -> tuple[dict[str, bool], set[str]]:
    """For one login window: whether each test alone (Bonferroni over the features it applies to) flags any
    feature, whether the default rule does, and the features the default rule flags."""
    names = list(refs)
    counts = {f: refs[f].counts(x[:, i]) for i, f in enumerate(names)}
    alarms = {}
    for name in LOGIN_TESTS:
        test = make(name, policy)
        applies = [f for f in names if refs[f].spec.kind in test.kinds]
        alarms[name] = any(test.flags(test.compute(refs[f], counts[f]), tests=len(applies)) for f in applies)
    flagged = {f for f, v in judge.judge({f: (refs[f], counts[f]) for f in names}).items() if v.drifted}
    alarms[LOGIN_RULE] = bool(flagged)
    return alarms, flagged


def login_section(windows: int) -> str:
    """Each test's alarm rate on the login model's windows: stationary (false alarms) and categorical drift."""
    profile, policy = load_profile(LOGIN_RISK.name), Policy()
    schema = profile.model_schema
    refs = {f: ColumnReference.of(profile, f) for f in schema.names}
    judge = ModelDetectors(profile.model_name, schema, policy)
    applies = {name: [f for f in schema.names if schema[f].kind in make(name, policy).kinds] for name in LOGIN_TESTS}
    rows, seed = [], 50_000
    for size, count in [(500, windows), (5_000, max(20, windows // 2)), (50_000, max(10, windows // 5))]:
        for traffic, scenario in LOGIN_TRAFFIC.items():
            # a false-alarm rate near the 0.5% family-wise level needs thousands of windows to be told apart from 1%
            n = count * STATIONARY_FACTOR if traffic == "stationary" else count
            alarms = {t: 0 for t in (*LOGIN_TESTS, LOGIN_RULE)}
            flagged: dict[str, int] = {}
            for _ in range(n):
                seed += 1
                x = schema.encode_frame(logins.generate(size, seed=seed, scenario=scenario)).astype(float)
                window, features = login_window_alarms(refs, judge, x, policy)
                for t, alarmed in window.items():
                    alarms[t] += alarmed
                for f in features:
                    flagged[f] = flagged.get(f, 0) + 1
            rows.append((size, traffic, n, alarms, flagged))
            print(f"  logins {size:>7,} {traffic:<15} " + "  ".join(f"{t} {v / n:.0%}" for t, v in alarms.items()), flush=True)
    lines = [
        f"The login model (`login_risk`: 3 categorical, 2 discrete, 1 binary, 2 numeric features). Share of windows "
        f"in which each test alone flags at least one of the features it applies to (Bonferroni over those "
        f"features, default thresholds), and the default rule of each kind ("
        f"{'; '.join(f'{kind}: ' + ' + '.join(tests) for kind, tests in TESTS_BY_KIND.items())}; chi-square with the "
        f"{policy.chi2_min_effect:.0%} effect floor, the quantile shift with its {policy.quantile_shift_min:g} floor, PSI "
        f"flagging only beside a significant test). PSI is computed over chi-square's pooled bins (the sparsest pooled "
        f"until every expected count is large enough): in a small window a category never seen in training is pooled "
        f"with the rarest ones, which is why PSI alone misses most unseen_country windows of 500 rows. Stationary windows "
        f"should not alarm; unseen_country (10% of logins from a country never seen in training) and mobile_surge "
        f"(mobile share 38% -> 76%) should. Stationary windows are {STATIONARY_FACTOR} times as many, so that their rate can "
        f"be compared with the family-wise level {policy.family_wise_level:g}; the bounds are exact 95% (Clopper-Pearson) "
        f"intervals of the default rule's rate. Reference: the trained model's profile (the whole training split).",
        "",
        "| test | applies to |", "|---|---|",
        *(f"| {t} | {', '.join(applies[t])} |" for t in LOGIN_TESTS),
        "",
        "| window | traffic | windows | " + " | ".join(LOGIN_TESTS) + f" | {LOGIN_RULE} | its 95% bounds | features the default rule flags (share of windows) |",
        "|---|---|---|" + "---|" * (len(LOGIN_TESTS) + 3),
    ]
    for size, traffic, n, alarms, flagged in rows:
        named = ", ".join(f"{f} {k / n:.1%}" for f, k in sorted(flagged.items(), key=lambda kv: -kv[1])) or "none"
        low, high = clopper_pearson(alarms[LOGIN_RULE], n)
        lines.append(f"| {size:,} | {traffic} | {n} | " + " | ".join(f"{alarms[t] / n:.1%}" for t in LOGIN_TESTS)
                     + f" | {alarms[LOGIN_RULE] / n:.1%} | {low:.1%}-{high:.1%} | {named} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--windows", type=int, default=200)
    parser.add_argument("--only", choices=("fraud", "logins"), help="run one model's part only")
    args = parser.parse_args(argv)
    if args.only != "fraud":
        body = login_section(args.windows)
        write_section("detection-logins", "Drift detection on the login model (`bench/detection.py`)", body)
        print(body)
    if args.only == "logins":
        return
    profile, policy = load_profile(), Policy()
    refs = {f: ColumnReference.of(profile, f) for f in FEATURE_NAMES}
    schema = profile.model_schema
    all_ks = MonitoringConfig.from_mapping({"tests_by_kind": {k: ["psi", "ks"] for k in ("discrete", "binary")}})
    judges = {"ours": ModelDetectors(profile.model_name, schema, policy),
              "before kinds": ModelDetectors(profile.model_name, schema, policy, all_ks)}
    family = judges["ours"].family
    level = policy.family_wise_level * (1 - policy.quality_level_share) / family  # what one p-value test gets
    sizes = [(500, args.windows), (2_000, args.windows), (20_000, max(20, args.windows // 4)), (200_000, max(10, args.windows // 20))]
    rows, stationary = [], []
    seed = 10_000
    for size, count in sizes:
        for kind, scenario in KINDS.items():
            alarms = {rule: 0 for rule in RULES}
            per_test, pvalues = {t: 0 for t in TESTS}, []
            for _ in range(count):
                seed += 1
                x = generate(size, seed=seed, scenario=scenario)[list(FEATURE_NAMES)].to_numpy(np.float32).astype(float)
                for rule, flagged in window_flags(refs, judges, x, policy).items():
                    alarms[rule] += bool(flagged)
                if kind == "stationary":
                    test_alarms, p = test_rates(refs, x, policy)
                    for t, alarmed in test_alarms.items():
                        per_test[t] += alarmed
                    pvalues.append(p)
            rows.append((size, kind, count, {r: alarms[r] / count for r in RULES}))
            if kind == "stationary":
                stationary.append((size, count, {t: v / count for t, v in per_test.items()}, pvalues))
            print(f"  {size:>7,} samples  {kind:<13} " + "  ".join(f"{r} {v:.0%}" for r, v in rows[-1][3].items()), flush=True)
    lines = [
        f"Share of windows that raise at least one feature alarm (12 features tested per window). Stationary and "
        f"harmless (+2% on amount and distance) windows should not alarm; covariate (amount +30%, distance +50%) and "
        f"the spec's drift (the same plus fraud 2% -> 5%) should. Ours: each feature judged by the tests of its kind "
        f"(numeric: KS p < {level:.2g} and D >= {policy.ks_min_statistic:g}, or "
        f"Mann-Whitney p < {level:.2g} and a quantile shift of at least {policy.quantile_shift_min:g}; "
        f"discrete and binary: chi-square p < {level:.2g} and at least {policy.chi2_min_effect:.0%} of the "
        f"distribution moved; any kind: PSI >= {policy.psi_threshold:g} over chi-square's pooled bins, which flags only "
        f"beside one of the feature's p-value tests significant), where {level:.2g} is the family-wise level "
        f"{policy.family_wise_level:g} less the {policy.quality_level_share:.0%} kept for the missing/out-of-range "
        f"checks, over the {family} p-value tests. Before kinds: PSI + KS on all 12. PSI alone: the same pooled PSI "
        f"with no test beside it. Reference: the trained model's profile (the whole training column as the KS reference).",
        "",
        f"| window | traffic | windows | ours | before kinds | uncorrected KS p<0.05 | PSI >= {policy.psi_threshold:g} alone |",
        "|---|---|---|---|---|---|---|",
    ]
    for size, kind, count, rates in rows:
        lines.append(f"| {size:,} | {kind} | {count} | {rates['ours']:.1%} | {rates['before kinds']:.1%} | "
                     f"{rates['KS p<0.05']:.1%} | {rates['PSI alone']:.1%} |")
    plot(rows)
    lines += ["", "![alarm rates by window size](docs/detection.png)", "", *tests_table(stationary, policy)]
    write_section("detection", "Drift detection quality (`bench/detection.py`)", "\n".join(lines))
    print("\n".join(lines))


def tests_table(stationary: list, policy: Policy) -> list[str]:
    """Each test alone on stationary windows, and KS against chi-square on the discrete features."""
    lines = ["**Each test alone on stationary windows** (share of windows where it flags any feature it applies to, "
             "Bonferroni over those features, default thresholds):", "",
             "| window | windows | " + " | ".join(TESTS) + " |", "|---|---|" + "---|" * len(TESTS)]
    for size, count, rates, _ in stationary:
        lines.append(f"| {size:,} | {count} | " + " | ".join(f"{rates[t]:.1%}" for t in TESTS) + " |")
    lines += ["", "**KS against chi-square on discrete fraud features, stationary windows**: share of windows with an "
              "uncorrected p < 0.05 (a valid test gives 5%) and the mean p-value (a valid test gives 0.5). KS's "
              "p-values assume continuous data: with ties they are far too large, so KS misses real shifts of such features.", "",
              "| window | feature | KS p<0.05 | chi-square p<0.05 | KS mean p | chi-square mean p |", "|---|---|---|---|---|---|"]
    for size, _, _, pvalues in stationary:
        for f in DISCRETE:
            ks = np.array([p[(f, "ks")] for p in pvalues])
            chi = np.array([p[(f, "chi2")] for p in pvalues])
            lines.append(f"| {size:,} | {f} | {np.mean(ks < 0.05):.1%} | {np.mean(chi < 0.05):.1%} | {ks.mean():.2f} | {chi.mean():.2f} |")
    return lines


if __name__ == "__main__":
    main()
