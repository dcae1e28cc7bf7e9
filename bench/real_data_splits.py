"""False alarms on real data: stationary random splits of scikit-learn's bundled data sets (no download), before and
after the small-data rules of issue 22 (integer columns inferred `discrete` only with few values for their rows, PSI
over pooled bins, PSI counted only beside a significant test). Writes the "real-data-splits" section of BENCHMARKS.md.

Each split is a random half of the data set against the other half, at the data set's natural size (diabetes 442
rows, breast cancer 569, wine 178), schema inferred as `drift-monitor report` infers it, `MIN_WINDOW_SAMPLES` 1 (wine's
halves are 89 rows, under the default 200: the CLI would refuse to judge them). "Flags" is the CLI's exit 1 (a
feature drifted); "not healthy" is a health status above healthy (a PSI in the warning band counts). A second row
per data set shifts one feature of the current half by SHIFT_SDS standard deviations: what must still be flagged.

"Before" runs the same counting on the tree of BEFORE_REF (default: the commit before issue 22), exported with
`git archive` into a temporary folder: the code as it was, the same splits.
"""
from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import tarfile
import io
import tempfile
from pathlib import Path

SPLITS = int(os.environ.get("REAL_DATA_SPLITS", "200"))
BEFORE_REF = os.environ.get("BEFORE_REF", "8f283c6")
SHIFT_SDS = 0.5  # the shift, in the feature's standard deviations: small enough that the rule's power shows
SHIFTED = {"diabetes": "bmi", "breast_cancer": "mean radius", "wine": "alcohol"}  # a numeric feature of each


def frame(name: str):
    from sklearn.datasets import load_breast_cancer, load_diabetes, load_wine
    data = {"diabetes": lambda: load_diabetes(scaled=False, as_frame=True),
            "breast_cancer": lambda: load_breast_cancer(as_frame=True), "wine": lambda: load_wine(as_frame=True)}[name]()
    return data.frame.drop(columns=["target"])


def count(name: str, splits: int) -> dict:
    """Share of stationary splits that flag / are not healthy, and of shifted ones that flag."""
    import numpy as np

    from contracts.policy import Policy
    # run_tree runs this in the tree judged; BEFORE_REF's predates the package's rename (issue 21). Decided by the tree,
    # not by trying the import: an editable install would find this checkout's drift_report from the older tree.
    package = "drift_report" if (Path.cwd() / "drift_report").is_dir() else "report"
    DriftReport = importlib.import_module(f"{package}.core").DriftReport
    df, policy = frame(name), Policy(min_window_samples=1)
    out = {"rows": len(df), "splits": splits, "flagged": 0, "unhealthy": 0, "shift_flagged": 0, "features": {}}
    for seed in range(splits):
        order = np.random.default_rng(seed).permutation(len(df))
        half = len(df) // 2
        reference, current = df.iloc[order[:half]].reset_index(drop=True), df.iloc[order[half:]].reset_index(drop=True)
        report = DriftReport.compare(reference, current, policy=policy)
        out["flagged"] += report.drift_found
        out["unhealthy"] += (report.snapshot.health_status or 0) > 0
        for feature in report.drifted_features():
            out["features"][feature] = out["features"].get(feature, 0) + 1
        shifted = current.copy()
        shifted[SHIFTED[name]] = shifted[SHIFTED[name]] + SHIFT_SDS * df[SHIFTED[name]].std()
        out["shift_flagged"] += SHIFTED[name] in DriftReport.compare(reference, shifted, policy=policy).drifted_features()
    return out


def run_tree(tree: Path, name: str) -> dict:
    """`count` with another tree's code (the script itself is this one: it uses APIs both trees have)."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    done = subprocess.run([sys.executable, __file__, "--count", name, str(SPLITS)], env=env, capture_output=True,
                          text=True, check=True, cwd=tree)
    return json.loads(done.stdout.strip().splitlines()[-1])


def export(ref: str) -> Path:
    from bench.report import ROOT
    target = Path(tempfile.gettempdir()) / f"ml-drift-monitor-tree-{ref}"  # outside the repository: pytest must not collect it
    if not (target / "pyproject.toml").exists():
        archive = subprocess.run(["git", "archive", ref], cwd=ROOT, capture_output=True, check=True).stdout
        target.mkdir(parents=True, exist_ok=True)
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(target, filter="data")
    return target


def _pct(k: int, n: int) -> str:
    return f"{100 * k / n:.1f}%"


def main() -> None:
    from bench.report import ROOT, write_section
    before_tree = export(BEFORE_REF)
    rows = []
    for name in ("diabetes", "breast_cancer", "wine"):
        before, after = run_tree(before_tree, name), run_tree(ROOT, name)
        top = lambda r: ", ".join(f"{f} {_pct(k, r['splits'])}" for f, k in sorted(r["features"].items(), key=lambda kv: -kv[1])[:3]) or "none"  # noqa: E731
        rows.append(f"| {name} | {after['rows']} | {after['splits']} | {_pct(before['flagged'], SPLITS)} | "
                    f"{_pct(after['flagged'], SPLITS)} | {_pct(before['unhealthy'], SPLITS)} | {_pct(after['unhealthy'], SPLITS)} | "
                    f"{top(before)} | {top(after)} | {SHIFTED[name]}: {_pct(before['shift_flagged'], SPLITS)} → "
                    f"{_pct(after['shift_flagged'], SPLITS)} |")
        print(rows[-1], flush=True)
    body = (f"Random halves of scikit-learn's bundled data sets against the other half (stationary: nothing should be "
            f"flagged), {SPLITS} splits each, schema inferred, `MIN_WINDOW_SAMPLES=1`. Before: the tree at `{BEFORE_REF}`; "
            "after: this tree (integer columns `discrete` only with few values for their rows, PSI over pooled bins, "
            "PSI counted only beside a significant test: docs/design.md, \"Small and integer-valued data\"). "
            f"The last column is the share of splits where one feature of the current half, shifted by {SHIFT_SDS:g} standard "
            "deviations, is flagged.\n\n"
            "| data set | rows | splits | flags, before | flags, after | not healthy, before | not healthy, after | "
            "most flagged, before | most flagged, after | shifted feature flagged, before → after |\n"
            "|---|---|---|---|---|---|---|---|---|---|\n" + "\n".join(rows))
    write_section("real-data-splits", "False alarms on small real data sets (`bench/real_data_splits.py`)", body)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--count"]:
        sys.path.remove(str(Path(__file__).resolve().parent))  # bench/report.py is not an old tree's report/
        print(json.dumps(count(sys.argv[2], int(sys.argv[3]))))
    else:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
        main()
