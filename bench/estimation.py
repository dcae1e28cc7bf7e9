"""Label-free performance estimates (CBPE) against the realized figures, ours and NannyML's, on the same chunks.

    python -m bench.estimation            # writes the "Performance estimation" section of BENCHMARKS.md

Data sets (each: a labelled reference both estimators are fitted on, and chunks to judge whose labels are hidden
from the estimators and used for the realized metric):
- `fraud:<scenario>`: ours. Reference: the model's validation and test splits (15,000 rows); chunks of 500, 5,000
  and 50,000 fresh rows of each scenario (seeds never used in training) scored by the trained model.
- `car_loan`: NannyML's synthetic car loan data set, shipped in its package (not generated here): its 50,000-row
  reference, its 50,000-row analysis period cut into chunks of 500 and 5,000 in time order (the last half is under
  covariate shift).
- `breast_cancer`: scikit-learn's bundled real data (569 tumours). Per repetition a logistic regression is trained
  here on 200 rows, the reference is 185 other rows, and a chunk of 100 is drawn from the rest with probability
  growing with `mean radius` (covariate shift).

Ours "after": the calibrator fitted on the reference (`fit_calibrator`), the estimator the exporter and the CLI use.
Ours "before": what ran before issue 25: the raw score as the probability in the CLI (car_loan, breast_cancer), the
profile's calibrator fitted on the validation split in the exporter (fraud). NannyML's CBPE runs in a virtualenv of
its own (never a project dependency), with a time-out; without it the table says n/a.
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
from drift_client.reference_profile import ReferenceProfile
from transactions import FEATURE_NAMES, LABEL, generate
from drift.estimation import Calibrator, estimate_from_scores, fit_calibrator, score_edges
from drift.performance import classification_metrics

SCENARIOS = ("baseline", "covariate", "gradual", "concept", "spec_drift")
FRAUD_SIZES = {500: 20, 5_000: 6, 50_000: 2}  # chunks per scenario and size: 2 cores shared, keep it minutes
LOAN_SIZES = (500, 5_000)
CANCER_REPEATS, CANCER_CHUNK = 40, 100
METRICS = ("roc_auc", "average_precision", "precision", "recall", "f1")
TOLERANCE = 0.05  # mixin/config.yml thresholds.estimated_drop and roc_auc_drop
NANNYML_VENV = Path(os.environ.get("NANNYML_VENV", Path(tempfile.gettempdir()) / "ml-drift-bench-nannyml"))
NANNYML_VERSION = "0.13.1"
NANNYML_TIMEOUT = 900


# ---------------------------------------------------------------- data sets: jobs of (reference, chunks)

def load_model():
    model = bentoml.models.get(model_tag())
    with open(model.path_of(PROFILE_FILE)) as f:
        profile = ReferenceProfile.from_json(f.read())
    return load_booster(model.path_of(BOOSTER_FILE)), profile, model.info.metadata


def window(booster, n: int, seed: int, scenario: str, ramp: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    df = generate(n, seed=seed, scenario=scenario, ramp=ramp)
    return predict_scores(booster, df[list(FEATURE_NAMES)].to_numpy(np.float32)).astype(float), df[LABEL].to_numpy()


def fraud_jobs(booster, profile: ReferenceProfile, meta: dict) -> list[dict]:
    from bento_service.train import split
    rows, seed = int(meta["rows"]), int(meta["seed"])
    data = generate(rows, seed=seed)
    _, va, te = split(rows, seed)
    ref = np.r_[va, te]
    ref_s = predict_scores(booster, data[list(FEATURE_NAMES)].to_numpy(np.float32)[ref]).astype(float)
    ref_y = data[LABEL].to_numpy()[ref]
    jobs = []
    for scenario in SCENARIOS:
        chunks = []
        for size, count in FRAUD_SIZES.items():
            for i in range(count):
                seed_i = 10_000 + 1_000 * SCENARIOS.index(scenario) + 100 * list(FRAUD_SIZES).index(size) + i
                ramp = (i + 1) / count if scenario == "gradual" else 1.0
                chunks.append((size, *window(booster, size, seed_i, scenario, ramp)))
        jobs.append({"data": f"fraud:{scenario}", "ref_s": ref_s, "ref_y": ref_y, "threshold": profile.threshold,
                     "chunks": chunks, "before": Calibrator.from_dict(profile.calibrator),
                     "before_edges": np.asarray(profile.score_edges)})
        print(f"  fraud:{scenario}: {len(chunks)} chunks", flush=True)
    return jobs


EXPORT_LOAN = r'''
import sys, numpy as np, nannyml as nml
ref, ana, tgt = nml.load_synthetic_car_loan_dataset()
ana = ana.merge(tgt, on="id")
np.savez(sys.argv[1], ref_s=ref.y_pred_proba.to_numpy(float), ref_y=ref.repaid.to_numpy(int),
         s=ana.y_pred_proba.to_numpy(float), y=ana.repaid.to_numpy(int))
'''


def loan_job(python: Path | None, tmp: Path) -> dict | None:
    """NannyML's car loan data set, read by NannyML's own loader in its virtualenv (None: unavailable)."""
    if python is None:
        return None
    path, script = tmp / "car_loan.npz", tmp / "export_loan.py"
    script.write_text(EXPORT_LOAN)
    try:
        subprocess.run([str(python), str(script), str(path)], check=True, capture_output=True, timeout=300)
    except (subprocess.SubprocessError, OSError):
        return None
    d = np.load(path)
    chunks = [(size, d["s"][i:i + size], d["y"][i:i + size]) for size in LOAN_SIZES
              for i in range(0, len(d["s"]) - size + 1, size)]
    return {"data": "car_loan", "ref_s": d["ref_s"], "ref_y": d["ref_y"], "threshold": 0.5, "chunks": chunks,
            "before": Calibrator(), "before_edges": score_edges(d["ref_s"], 0.5)}


def cancer_jobs() -> list[dict]:
    """Per repetition: a model trained here, its reference, one covariate-shifted chunk (scikit-learn's data)."""
    from sklearn.datasets import load_breast_cancer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    x, y = load_breast_cancer(return_X_y=True)
    radius = (x[:, 0] - x[:, 0].mean()) / x[:, 0].std()
    jobs = []
    for r in range(CANCER_REPEATS):
        rng = np.random.default_rng(r)
        order = rng.permutation(len(y))
        tr, ref, rest = order[:200], order[200:385], order[385:]
        model = make_pipeline(StandardScaler(), LogisticRegression(C=0.05, max_iter=1000)).fit(x[tr], y[tr])
        weights = np.exp(1.0 * radius[rest])
        pick = rng.choice(rest, CANCER_CHUNK, replace=False, p=weights / weights.sum())
        score = lambda idx: model.predict_proba(x[idx])[:, 1]
        jobs.append({"data": "breast_cancer", "ref_s": score(ref), "ref_y": y[ref], "threshold": 0.5,
                     "chunks": [(CANCER_CHUNK, score(pick), y[pick])], "before": Calibrator(),
                     "before_edges": score_edges(score(ref), 0.5)})
    return jobs


# ---------------------------------------------------------------- ours

def run_ours(job: dict) -> list[dict]:
    """Per chunk: truth, after (calibrator fitted on the reference), before."""
    after = fit_calibrator(job["ref_s"], job["ref_y"], job["threshold"])
    edges = score_edges(job["ref_s"], job["threshold"])
    out = []
    for size, s, y in job["chunks"]:
        truth = classification_metrics(y, s, job["threshold"])
        out.append({"size": size, "truth": truth, "after": estimate_from_scores(s, after, edges, job["threshold"]),
                    "before": estimate_from_scores(s, job["before"], job["before_edges"], job["threshold"])})
    job["calibrator"] = after.kind
    return out


# ---------------------------------------------------------------- NannyML, in its own virtualenv

NANNYML_SCRIPT = r'''
import json, sys, warnings, numpy as np, pandas as pd, nannyml as nml
warnings.filterwarnings("ignore")
data = np.load(sys.argv[1], allow_pickle=True)
metrics = ["roc_auc", "average_precision", "precision", "recall", "f1"]
out = []
for j in range(int(data["jobs"])):
    t = float(data[f"threshold_{j}"])
    ref = pd.DataFrame({"p": data[f"ref_s_{j}"], "y": data[f"ref_y_{j}"]})
    ref["yhat"] = (ref.p >= t).astype(int)
    cbpe = nml.CBPE(y_pred_proba="p", y_pred="yhat", y_true="y", problem_type="classification_binary",
                    metrics=metrics, chunk_number=1)
    cbpe.fit(ref)
    rows = []
    for i in range(int(data[f"chunks_{j}"])):
        s = data[f"s_{j}_{i}"]
        res = cbpe.estimate(pd.DataFrame({"p": s, "yhat": (s >= t).astype(int)})).filter(period="analysis").to_df()
        row = {}
        for m in metrics:
            get = lambda key: [c for c in res.columns if c[0] == m and c[-1] == key]
            for key in ("value", "lower_confidence_boundary", "upper_confidence_boundary"):
                col = get(key)
                row[f"{m}:{key}"] = float(res[col[0]].iloc[0]) if col else None
        rows.append(row)
    out.append(rows)
    print(f"nannyml job {j} done", file=sys.stderr, flush=True)
print(json.dumps(out))
'''


def nannyml_python() -> tuple[Path | None, str]:
    python = NANNYML_VENV / "bin" / "python"
    try:
        if not python.exists():
            subprocess.run([sys.executable, "-m", "venv", str(NANNYML_VENV)], check=True, timeout=120)
        if subprocess.run([str(python), "-c", "import nannyml"], capture_output=True).returncode != 0:
            print(f"installing nannyml=={NANNYML_VERSION} into {NANNYML_VENV} (once)", flush=True)
            # nannyml 0.13.1 imports statsmodels without declaring it
            subprocess.run([str(python), "-m", "pip", "install", "-q", f"nannyml=={NANNYML_VERSION}", "statsmodels"],
                           check=True, timeout=NANNYML_TIMEOUT, capture_output=True)
        version = subprocess.run([str(python), "-c", "import nannyml; print(nannyml.__version__)"], capture_output=True,
                                 text=True, check=True, timeout=120).stdout.strip()
        return python, version
    except (subprocess.SubprocessError, OSError) as exc:
        return None, f"NannyML did not install or import within {NANNYML_TIMEOUT} s ({type(exc).__name__})"


def run_nannyml(python: Path, jobs: list[dict], tmp: Path) -> list[list[dict]] | str:
    path, script = tmp / "jobs.npz", tmp / "run_nannyml.py"
    arrays = {"jobs": len(jobs)}
    for j, job in enumerate(jobs):
        arrays.update({f"threshold_{j}": job["threshold"], f"ref_s_{j}": job["ref_s"], f"ref_y_{j}": job["ref_y"],
                       f"chunks_{j}": len(job["chunks"])})
        arrays.update({f"s_{j}_{i}": c[1] for i, c in enumerate(job["chunks"])})
    np.savez(path, **arrays)
    script.write_text(NANNYML_SCRIPT)
    try:
        run = subprocess.run([str(python), str(script), str(path)], capture_output=True, text=True, timeout=NANNYML_TIMEOUT)
    except subprocess.TimeoutExpired:
        return f"did not finish within {NANNYML_TIMEOUT} s"
    if run.returncode != 0:
        return f"failed: {run.stderr.strip().splitlines()[-1] if run.stderr.strip() else run.returncode}"
    return json.loads(run.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- tables

def summarise(jobs: list[dict], ours: list[list[dict]], nanny: list[list[dict]] | None) -> list[dict]:
    """MAE and coverage per (data set, chunk size)."""
    cells: dict[tuple, dict] = {}
    for j, job in enumerate(jobs):
        for i, r in enumerate(ours[j]):
            c = cells.setdefault((job["data"], r["size"]), {"n": 0, "err": {}, "cover": {}})
            c["n"] += 1
            n = nanny[j][i] if nanny else None
            for m in METRICS:
                truth = r["truth"][m]
                if math.isnan(truth):
                    continue
                a, b = r["after"], r["before"]
                # before issue 25 the ROC AUC and average precision points were the mean over the draws
                old = b.draws_mean[m] if m in ("roc_auc", "average_precision") else b.metrics[m]
                for key, value in (("after", a.metrics[m]), ("before", old),
                                   ("nannyml", n.get(f"{m}:value") if n else None)):
                    if value is not None and not math.isnan(value):
                        c["err"].setdefault((key, m), []).append(abs(value - truth))
                c["cover"].setdefault(("sampling", m), []).append(a.lower[m] <= truth <= a.upper[m])
                c["cover"].setdefault(("total", m), []).append(a.total_lower[m] <= truth <= a.total_upper[m])
                if n and n.get(f"{m}:lower_confidence_boundary") is not None:
                    c["cover"].setdefault(("nannyml", m), []).append(
                        n[f"{m}:lower_confidence_boundary"] <= truth <= n[f"{m}:upper_confidence_boundary"])
    rows = []
    for (data, size), c in cells.items():
        mean = lambda v: float(np.mean(v)) if v else math.nan
        rows.append({"data": data, "size": size, "chunks": c["n"],
                     "mae": {k: mean(v) for k, v in c["err"].items()}, "cover": {k: mean(v) for k, v in c["cover"].items()}})
    return rows


def above_nannyml(rows: list[dict]) -> str:
    """The cells where our ROC AUC or average precision MAE is above NannyML's, with the difference."""
    cells = [f"{r['data']} {r['size']:,} {m} (+{r['mae'][('after', m)] - r['mae'][('nannyml', m)]:.5f})"
             for r in rows for m in ("roc_auc", "average_precision")
             if r["mae"].get(("after", m), math.nan) > r["mae"].get(("nannyml", m), math.inf)]
    return "; ".join(cells) if cells else "none"


def mae_table(rows: list[dict]) -> str:
    head = "| data set | chunk | chunks | " + " | ".join(f"{m}: after / before / NannyML" for m in METRICS) + " |"
    lines = [head, "|" + "---|" * (3 + len(METRICS))]
    for r in rows:
        def cell(m):
            a, b, n = (r["mae"].get((k, m), math.nan) for k in ("after", "before", "nannyml"))
            mark = "**" if a <= n or math.isnan(n) else ""
            return f"{mark}{a:.4f}{mark} / {b:.4f} / {'n/a' if math.isnan(n) else f'{n:.4f}'}"
        lines.append(f"| {r['data']} | {r['size']:,} | {r['chunks']} | " + " | ".join(cell(m) for m in METRICS) + " |")
    return "\n".join(lines)


def coverage_table(rows: list[dict]) -> str:
    shown = ("roc_auc", "average_precision", "precision", "recall")
    head = "| data set | chunk | " + " | ".join(f"{m}: sampling / total / NannyML" for m in shown) + " |"
    lines = [head, "|" + "---|" * (2 + len(shown))]
    pct = lambda v: "n/a" if math.isnan(v) else f"{v:.0%}"
    for r in rows:
        lines.append(f"| {r['data']} | {r['size']:,} | " + " | ".join(
            " / ".join(pct(r["cover"].get((k, m), math.nan)) for k in ("sampling", "total", "nannyml")) for m in shown) + " |")
    return "\n".join(lines)


def timeline(booster, profile: ReferenceProfile, calibrator: Calibrator, size: int = 5_000, before: int = 4,
             after: int = 8) -> list[dict]:
    """Window index at which the estimate and the realized metric first alarm (None: never)."""
    edges, ref = np.asarray(profile.score_edges), profile.metrics
    result = []
    for scenario in SCENARIOS[1:]:
        first_est = first_real = None
        for i in range(before + after):
            drifting = i >= before
            ramp = (i - before + 1) / after if scenario == "gradual" else 1.0
            scores, labels = window(booster, size, 50_000 + 100 * SCENARIOS.index(scenario) + i,
                                    scenario if drifting else "baseline", ramp=ramp)
            e = estimate_from_scores(scores, calibrator, edges, profile.threshold)
            truth = classification_metrics(labels, scores, profile.threshold)
            if any(e.upper[m] < ref[m] - TOLERANCE for m in ("roc_auc", "average_precision") if m in ref) and first_est is None:
                first_est = i
            if truth["roc_auc"] < ref["roc_auc"] - TOLERANCE and first_real is None:
                first_real = i
        result.append({"scenario": scenario, "estimate": first_est, "realized": first_real, "drift_from": before})
    return result


def evidence(jobs: list[dict], booster, profile: ReferenceProfile) -> str:
    """Where the error came from: each suspect measured on its own."""
    from drift.estimation import grouped_average_precision, grouped_roc_auc, reliability
    lines = ["| suspect | measurement | figure |", "|---|---|---|"]
    # 1. score binning: the expected curves of each chunk over the exporter's bins vs over the raw scores
    change: dict[tuple, list[float]] = {}
    for job in jobs:
        if not job["data"].startswith(("fraud:baseline", "fraud:covariate", "car_loan")):
            continue
        cal, edges = fit_calibrator(job["ref_s"], job["ref_y"], job["threshold"]), score_edges(job["ref_s"], job["threshold"])
        for size, s, _ in job["chunks"][:40]:
            e = estimate_from_scores(s, cal, edges, job["threshold"])
            p = cal(np.sort(s))
            change.setdefault(("roc_auc", size), []).append(abs(e.metrics["roc_auc"] - float(grouped_roc_auc(p, 1 - p))))
            change.setdefault(("average_precision", size), []).append(
                abs(e.metrics["average_precision"] - float(grouped_average_precision(p, 1 - p))))
    for m in ("roc_auc", "average_precision"):
        lines.append(f"| score binning, {m} | change of the estimate, binned vs per score (fraud, car_loan chunks): "
                     "mean / largest | " + ", ".join(f"{size:,}: {np.mean(v):.5f} / {np.max(v):.5f}"
                                                     for (k, size), v in sorted(change.items()) if k == m) + " |")
    # 2. no calibrator in the CLI: signed error of the raw score taken as the probability, car_loan
    loan = next((j for j in jobs if j["data"] == "car_loan"), None)
    if loan:
        ece = reliability(loan["ref_s"], loan["ref_y"]).ece
        signed = {half: [] for half in ("stationary", "shifted")}
        fives = [c for c in loan["chunks"] if c[0] == 5_000]
        for i, (_, s, y) in enumerate(fives):
            e = estimate_from_scores(s, Calibrator(), loan["before_edges"], 0.5)
            signed["shifted" if i >= len(fives) // 2 else "stationary"].append(
                e.draws_mean["roc_auc"] - classification_metrics(y, s, 0.5)["roc_auc"])
        lines.append(f"| calibrator missing in the CLI | car_loan: raw score's ECE on the reference {ece:.4f}; raw "
                     f"score as probability, mean signed ROC AUC error, 5,000-row chunks | stationary "
                     f"{np.mean(signed['stationary']):+.4f}, shifted {np.mean(signed['shifted']):+.4f} |")
    # 3. the reference the fraud calibrator is fitted on: its own realized metrics vs the population's
    fraud = jobs[0]
    big_s, big_y = window(booster, 200_000, 4242, "baseline")
    population = classification_metrics(big_y, big_s, profile.threshold)
    n_val = len(fraud["ref_y"]) // 2
    for name, sl in (("validation split (old calibrator)", slice(0, n_val)), ("validation + test", slice(None))):
        own = classification_metrics(fraud["ref_y"][sl], fraud["ref_s"][sl], profile.threshold)
        lines.append(f"| fraud reference: {name}, {int(fraud['ref_y'][sl].sum())} frauds | its realized ROC AUC / AP "
                     f"vs 200,000 fresh baseline rows | {own['roc_auc']:.4f} / {own['average_precision']:.4f} vs "
                     f"{population['roc_auc']:.4f} / {population['average_precision']:.4f} |")
    cal = fit_calibrator(fraud["ref_s"], fraud["ref_y"], profile.threshold)
    lines.append(f"| calibrator's own error (bootstrap refits of the fraud reference) | standard deviation of the "
                 f"estimate | ROC AUC {cal.error_sd.get('roc_auc', math.nan):.4f}, AP "
                 f"{cal.error_sd.get('average_precision', math.nan):.4f} |")
    return "\n".join(lines)


def main() -> None:
    started = time.perf_counter()
    booster, profile, meta = load_model()
    if not profile.score_edges:
        sys.exit("the model predates performance estimation: `make train` first")
    python, version = nannyml_python()
    print(f"NannyML: {version}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        print("building chunks", flush=True)
        jobs = fraud_jobs(booster, profile, meta)
        loan = loan_job(python, Path(tmp))
        jobs += ([loan] if loan else []) + cancer_jobs()
        print(f"ours on {sum(len(j['chunks']) for j in jobs)} chunks", flush=True)
        ours = [run_ours(job) for job in jobs]
        print(f"ours done in {time.perf_counter() - started:.0f} s; NannyML on the same chunks", flush=True)
        nanny = run_nannyml(python, jobs, Path(tmp)) if python else version
    note = (f"NannyML {version} CBPE, fitted on the same reference, `chunk_number=1` per chunk."
            if isinstance(nanny, list) else f"NannyML: {nanny}: no comparison.")
    rows = summarise(jobs, ours, nanny if isinstance(nanny, list) else None)
    print("measuring where the error comes from", flush=True)
    found = evidence(jobs, booster, profile)
    early = timeline(booster, profile, Calibrator.from_dict(profile.calibrator))
    kinds = ", ".join(sorted({f"{j['data']}: {j['calibrator']}" for j in jobs}))
    body = f"""`python -m bench.estimation` (data sets and method in its docstring): MAE of the estimate against the
realized metric of the same chunk. **after**: this code (calibrator fitted on the reference by `fit_calibrator`,
as the exporter's and the CLI's estimator use it); **before**: the estimator before issue 25 (raw score as the
probability in the CLI for car_loan and breast_cancer; the profile's calibrator fitted on the 7,500-row validation
split for fraud); **NannyML**: its CBPE fitted on the same reference. Bold: ours ≤ NannyML's. Calibrator chosen by
`fit_calibrator`: {kinds}. Fraud reference: validation + test split, {len(jobs[0]['ref_y']):,} rows,
{int(np.sum(jobs[0]['ref_y']))} frauds.

{mae_table(rows)}

Cells where our ROC AUC or AP error is above NannyML's: {above_nannyml(rows)}.

**Where the error came from** (each suspect measured alone; reasons in docs/design.md):

{found}

Reading: the offline report had no calibrator: it took the raw score as the probability, which is the whole of the
error issue 25 measured on the loan data (under-estimate on the shifted chunks); calibrating on the reference brings
it to NannyML's. Binning is negligible for both curves: ROC AUC counts the pairs inside a bin as ties; average
precision, which counted a bin as one threshold and so sat about 0.002 under the per-score curve (and above
NannyML's error in 6 cells, measured 2026-12-04 16:09), now takes a bin's n scores as n thresholds of the bin's probability
(`expected_average_precision`, the row above). On our fraud model the error that is left is the reference's: a few
hundred labelled frauds whose own ROC AUC and AP are off the population's by the amount both estimators are off, on
every window size; ours and NannyML's are then the same estimator (isotonic on the same reference, expected curves)
and agree to the fourth decimal in every cell (the cells listed above differ by less than 1e-4: inside a bin ours
takes the bin's mean probability, NannyML each score's own). `concept` and `spec_drift` (the fraud rate moves from 2% to 5%) break CBPE's
assumption that P(fraud | score) is unchanged: no score-based estimate follows them. breast_cancer: the regularised
logistic regression's probabilities are far from calibrated, so the raw score as the probability (before) is far
off; why NannyML's CBPE, isotonic on the same 185-row reference, is further off than ours was not investigated.

Coverage of the 95% intervals (share of chunks whose realized figure lies inside): **sampling** (the bootstrap
interval the exporter publishes: sampling noise only), **total** (sampling and the calibrator's own error, measured
by refitting it on bootstrap resamples of the reference), NannyML's (±3 sampling standard errors, its default):

{coverage_table(rows)}

Reading: the sampling interval is what the exporter publishes and the alert reads; it is right where sampling
dominates (small chunks, car_loan's 50,000-row reference) and collapses at 50,000 predictions on the fraud model,
where the reference's own error dominates. The total interval adds that error and holds the realized figure there
too, for ROC AUC and average precision, when P(fraud | score) is unchanged; 50,000-row cells have 2 chunks each, so
their coverage is a count, not a rate. Neither covers `concept` or `spec_drift`; precision and recall under the
`gradual` ramp move with the calibration near the threshold that a reference-wide measure of the calibrator's
error does not see.

{note}

**Did the estimate warn before the realized metric?** (exporter's profile calibrator) 4 baseline windows of 5,000
(0-3), then 8 of the scenario (4-11; `gradual` ramps to full over them). First window where the estimate alarmed
(upper end of its interval for ROC AUC or average precision more than {TOLERANCE} below the test split) and where the
realized ROC AUC did:

| scenario | estimate first alarmed | realized first alarmed |
|---|---|---|
""" + "\n".join(f"| {e['scenario']} | {e['estimate'] if e['estimate'] is not None else 'never'} | "
                f"{e['realized'] if e['realized'] is not None else 'never'} |" for e in early) + f"""

Total run {time.perf_counter() - started:.0f} s.
"""
    write_section("estimation", "Performance estimation without labels (CBPE)", body)
    print(body)


if __name__ == "__main__":
    main()
