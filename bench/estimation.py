"""Performance estimated without labels against the realized figures, on held-out windows of every scenario.

    python -m bench.estimation            # writes the "Performance estimation" section of BENCHMARKS.md

For each scenario (transactions/scenarios.py) and window size (500, 5,000, 50,000 predictions), fresh windows are
generated (seeds never used in training), scored by the trained model, and the exporter's estimator
(drift/estimation.py, with the calibrator and score bins of the model's reference profile) is compared with
the realized metric of the same window: mean absolute error, and how often the realized figure falls inside the
estimate's 95% interval. The same is done with the raw scores taken as probabilities (no calibrator), which is how
training decides whether the estimator uses the calibrator. A timeline per scenario (4 baseline windows of 5,000,
then 8 of the scenario) says whether the estimate alarmed (ModelPerformanceEstimatedDrop: the interval's upper end
more than the tolerance below the test split) before the realized metric did (ModelPerformanceDegraded's rule).
NannyML's CBPE runs on the same windows from a virtualenv of its own (never a project dependency), if it installs.
"""
from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import bentoml
import numpy as np

from bench.report import write_section
from bento_service.model_store import BOOSTER_FILE, PROFILE_FILE, load_booster, model_tag, predict_scores
from contracts.reference_profile import SCORE, ReferenceProfile
from transactions import FEATURE_NAMES, LABEL, generate
from drift.estimation import Calibrator, estimate_from_scores
from drift.performance import classification_metrics

SCENARIOS = ("baseline", "covariate", "gradual", "concept", "spec_drift")
SIZES = {500: 40, 5_000: 12, 50_000: 3}  # windows per scenario and size
METRICS = ("roc_auc", "average_precision", "precision", "recall")
TOLERANCE = 0.05  # mixin/config.yml thresholds.estimated_drop and roc_auc_drop
NANNYML_VENV = Path(os.environ.get("NANNYML_VENV", Path(tempfile.gettempdir()) / "ml-drift-bench-nannyml"))
NANNYML_TIMEOUT = 900


def load_model():
    model = bentoml.models.get(model_tag())
    with open(model.path_of(PROFILE_FILE)) as f:
        profile = ReferenceProfile.from_json(f.read())
    return load_booster(model.path_of(BOOSTER_FILE)), profile, model.info.metadata


def window(booster, n: int, seed: int, scenario: str, ramp: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    df = generate(n, seed=seed, scenario=scenario, ramp=ramp)
    return predict_scores(booster, df[list(FEATURE_NAMES)].to_numpy(np.float32)), df[LABEL].to_numpy()


def realized(scores: np.ndarray, labels: np.ndarray, threshold: float) -> dict[str, float]:
    return classification_metrics(labels, scores, threshold)


def compare(booster, profile: ReferenceProfile) -> tuple[list[dict], list[dict]]:
    """Per (scenario, size): MAE and coverage of ours (calibrated and raw); the windows for NannyML."""
    calibrated, raw = Calibrator.from_dict(profile.calibrator), Calibrator()
    edges = np.asarray(profile.score_edges)
    rows, windows = [], []
    for scenario in SCENARIOS:
        for size, count in SIZES.items():
            errors = {k: {m: [] for m in METRICS} for k in ("ours", "raw")}
            inside = {m: [] for m in METRICS}
            for i in range(count):
                seed = 10_000 + 1_000 * SCENARIOS.index(scenario) + 100 * list(SIZES).index(size) + i
                scores, labels = window(booster, size, seed, scenario, ramp=(i + 1) / count if scenario == "gradual" else 1.0)
                truth = realized(scores, labels, profile.threshold)
                ours = estimate_from_scores(scores, calibrated, edges, profile.threshold)
                plain = estimate_from_scores(scores, raw, edges, profile.threshold)
                for m in METRICS:
                    if math.isnan(truth[m]) or math.isnan(ours.metrics[m]):
                        continue
                    errors["ours"][m].append(abs(ours.metrics[m] - truth[m]))
                    errors["raw"][m].append(abs(plain.metrics[m] - truth[m]))
                    inside[m].append(ours.lower[m] <= truth[m] <= ours.upper[m])
                windows.append({"scenario": scenario, "size": size, "scores": scores, "labels": labels, "truth": truth})
            rows.append({"scenario": scenario, "size": size, "windows": count,
                         "mae": {m: float(np.mean(errors["ours"][m])) for m in METRICS},
                         "mae_raw": {m: float(np.mean(errors["raw"][m])) for m in METRICS},
                         "coverage": {m: float(np.mean(inside[m])) for m in METRICS}})
            print(f"{scenario:10s} {size:6d}  MAE " + " ".join(f"{m} {rows[-1]['mae'][m]:.4f}" for m in METRICS), flush=True)
    return rows, windows


def timeline(booster, profile: ReferenceProfile, size: int = 5_000, before: int = 4, after: int = 8) -> list[dict]:
    """Window index at which the estimate and the realized metric first alarm (None: never)."""
    calibrated, edges, ref = Calibrator.from_dict(profile.calibrator), np.asarray(profile.score_edges), profile.metrics
    result = []
    for scenario in SCENARIOS[1:]:
        first_est = first_real = None
        for i in range(before + after):
            drifting = i >= before
            ramp = (i - before + 1) / after if scenario == "gradual" else 1.0
            scores, labels = window(booster, size, 50_000 + 100 * SCENARIOS.index(scenario) + i,
                                    scenario if drifting else "baseline", ramp=ramp)
            e = estimate_from_scores(scores, calibrated, edges, profile.threshold)
            truth = realized(scores, labels, profile.threshold)
            est_alarm = any(e.upper[m] < ref[m] - TOLERANCE for m in ("roc_auc", "average_precision") if m in ref)
            real_alarm = truth["roc_auc"] < ref["roc_auc"] - TOLERANCE
            if est_alarm and first_est is None:
                first_est = i
            if real_alarm and first_real is None:
                first_real = i
        result.append({"scenario": scenario, "estimate": first_est, "realized": first_real, "drift_from": before})
    return result


NANNYML_SCRIPT = r'''
import json, sys, numpy as np, pandas as pd, nannyml as nml
data = np.load(sys.argv[1], allow_pickle=True)
ref = pd.DataFrame({"y_pred_proba": data["ref_scores"], "y_true": data["ref_labels"]})
t = float(data["threshold"])
ref["y_pred"] = (ref.y_pred_proba >= t).astype(int)
metrics = ["roc_auc", "average_precision", "precision", "recall"]
cbpe = nml.CBPE(y_pred_proba="y_pred_proba", y_pred="y_pred", y_true="y_true", problem_type="classification_binary",
                metrics=metrics, chunk_number=1)
cbpe.fit(ref)
out = []
for i in range(int(data["count"])):
    s = data[f"scores_{i}"]
    df = pd.DataFrame({"y_pred_proba": s, "y_pred": (s >= t).astype(int)})
    res = cbpe.estimate(df).filter(period="analysis").to_df()
    row = {}
    for m in metrics:
        col = [c for c in res.columns if c[0] == m and c[-1] == "value"]
        row[m] = float(res[col[0]].iloc[0]) if col else None
    out.append(row)
print(json.dumps(out))
'''


def nannyml(windows: list[dict], profile: ReferenceProfile, ref_scores: np.ndarray, ref_labels: np.ndarray) -> tuple[dict | None, str]:
    """NannyML's CBPE on the same windows, from its own virtualenv; (MAE per scenario/size, note)."""
    python = NANNYML_VENV / "bin" / "python"
    started = time.monotonic()
    try:
        if not python.exists():
            subprocess.run([sys.executable, "-m", "venv", str(NANNYML_VENV)], check=True, timeout=120)
        if subprocess.run([str(python), "-c", "import nannyml"], capture_output=True).returncode != 0:
            # nannyml 0.13.1 imports statsmodels without declaring it
            subprocess.run([str(python), "-m", "pip", "install", "-q", "nannyml", "statsmodels"], check=True,
                           timeout=NANNYML_TIMEOUT, capture_output=True)
        version = subprocess.run([str(python), "-c", "import nannyml; print(nannyml.__version__)"], capture_output=True,
                                 text=True, check=True).stdout.strip()
    except (subprocess.SubprocessError, OSError) as exc:
        return None, f"NannyML did not install or import within {NANNYML_TIMEOUT} s ({type(exc).__name__}): no comparison."
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "windows.npz"
        np.savez(path, ref_scores=ref_scores, ref_labels=ref_labels, threshold=profile.threshold, count=len(windows),
                 **{f"scores_{i}": w["scores"] for i, w in enumerate(windows)})
        script = Path(tmp) / "run.py"
        script.write_text(NANNYML_SCRIPT)
        try:
            run = subprocess.run([str(python), str(script), str(path)], capture_output=True, text=True, timeout=NANNYML_TIMEOUT)
        except subprocess.TimeoutExpired:
            return None, f"NannyML {version} did not finish within {NANNYML_TIMEOUT} s: no comparison."
    if run.returncode != 0:
        return None, f"NannyML {version} failed: {run.stderr.strip().splitlines()[-1] if run.stderr.strip() else run.returncode}"
    estimates = json.loads(run.stdout.strip().splitlines()[-1])
    errors: dict[tuple, dict[str, list]] = {}
    for w, e in zip(windows, estimates):
        bucket = errors.setdefault((w["scenario"], w["size"]), {m: [] for m in METRICS})
        for m in METRICS:
            if e.get(m) is not None and not math.isnan(e[m]) and not math.isnan(w["truth"][m]):
                bucket[m].append(abs(e[m] - w["truth"][m]))
    mae = {k: {m: float(np.mean(v[m])) if v[m] else math.nan for m in METRICS} for k, v in errors.items()}
    return mae, f"NannyML {version} CBPE (fitted on the test split, `chunk_number=1` per window), {time.monotonic() - started:.0f} s."


def test_split(booster, meta: dict) -> tuple[np.ndarray, np.ndarray]:
    """The model's test split again (same generator, rows and seed as training)."""
    from bento_service.train import split
    data = generate(int(meta["rows"]), seed=int(meta["seed"]))
    _, _, te = split(int(meta["rows"]), int(meta["seed"]))
    x = data[list(FEATURE_NAMES)].to_numpy(np.float32)[te]
    return predict_scores(booster, x), data[LABEL].to_numpy()[te]


def table(rows: list[dict], nanny: dict | None) -> str:
    head = ("| scenario | window | windows | " + " | ".join(f"{m} MAE (raw / NannyML)" for m in METRICS)
            + " | " + " | ".join(f"{m} coverage" for m in METRICS) + " |")
    lines = [head, "|" + "---|" * (3 + 2 * len(METRICS))]
    for r in rows:
        other = nanny.get((r["scenario"], r["size"])) if nanny else None
        cells = [f"{r['mae'][m]:.4f} ({r['mae_raw'][m]:.4f} / {other[m]:.4f})" if other else
                 f"{r['mae'][m]:.4f} ({r['mae_raw'][m]:.4f} / n/a)" for m in METRICS]
        cover = [f"{r['coverage'][m]:.0%}" for m in METRICS]
        lines.append(f"| {r['scenario']} | {r['size']:,} | {r['windows']} | " + " | ".join(cells) + " | " + " | ".join(cover) + " |")
    return "\n".join(lines)


def main() -> None:
    booster, profile, meta = load_model()
    if not profile.score_edges:
        sys.exit("the model predates performance estimation: `make train` first")
    started = time.perf_counter()
    rows, windows = compare(booster, profile)
    ref_scores, ref_labels = test_split(booster, meta)
    nanny, note = nannyml(windows, profile, ref_scores, ref_labels)
    print(note, flush=True)
    early = timeline(booster, profile)
    cal = meta.get("calibration", {})
    base = [r for r in rows if r["scenario"] == "baseline"]
    body = f"""`python -m bench.estimation`: held-out windows (seeds never used in training) of every scenario, scored by
the trained model; the exporter's estimator (`drift/estimation.py`, calibrator and score bins from the model's
reference profile) against the realized metric of the same window. MAE: mean absolute error of the estimate;
"raw": the same estimator taking the raw score as the probability; coverage: share of windows whose realized
figure lies inside the estimate's 95% interval. Test split: ROC AUC {profile.metrics['roc_auc']:.3f}, average precision
{profile.metrics.get('average_precision', math.nan):.3f}; calibration on it: raw ECE {cal.get('raw', {}).get('ece', math.nan):.4f},
isotonic ECE {cal.get('isotonic', {}).get('ece', math.nan):.4f}; the estimator uses **{Calibrator.from_dict(profile.calibrator).kind}**.

{table(rows, nanny)}

{note}

**Baseline error, the figure the integration test holds the exporter to:** ROC AUC MAE
{', '.join(f"{r['mae']['roc_auc']:.3f} at {r['size']:,}" for r in base)} predictions.

**Did the estimate warn before the realized metric?** 4 baseline windows of 5,000 (0-3), then 8 of the scenario
(4-11; `gradual` ramps to full over them). First window where the estimate alarmed (upper end of its interval for
ROC AUC or average precision more than {TOLERANCE} below the test split) and where the realized ROC AUC did:

| scenario | estimate first alarmed | realized first alarmed |
|---|---|---|
""" + "\n".join(f"| {e['scenario']} | {e['estimate'] if e['estimate'] is not None else 'never'} | "
                f"{e['realized'] if e['realized'] is not None else 'never'} |" for e in early) + f"""

Reading: the interval covers *sampling* noise only. Up to 5,000 predictions it holds the realized figure most of
the time; at 50,000 the sampling noise is smaller than the calibration error of a model calibrated on 150
validation frauds (about 0.01 ROC AUC, 0.03-0.06 precision and recall), so coverage collapses: treat the MAE column,
not the interval, as the estimate's accuracy on large windows. The isotonic calibrator beats the raw scores on
average precision (baseline 50,000: 0.014 vs 0.047) and ROC AUC at 5,000, and loses on precision and recall:
mixed, kept because average precision and ROC AUC are what the alert watches. Ours and NannyML's CBPE agree to
within their errors on ROC AUC; ours is closer on average precision.
Under covariate shift (inputs move, the fraud mechanism does not) the estimate tracks the realized figures;
under concept drift (`concept`, `spec_drift`'s 5% fraud rate) the mechanism or the prior changes and no score-based
estimate can see it: that is what the estimated-vs-realized gap is for once labels arrive (runbook). Total run
{time.perf_counter() - started:.0f} s.
"""
    write_section("estimation", "Performance estimation without labels (CBPE)", body)
    print(body)


if __name__ == "__main__":
    main()
