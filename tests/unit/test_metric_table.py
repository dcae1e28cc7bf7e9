"""Each metric is defined once, in contracts/metric_names.py's table: the collectors, the retraining webhook's metrics
and docs/metrics.md come from it, and the rules and dashboards query only what it defines."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from contracts import metric_names as names
from contracts.metric_names import COUNTER, EXPORTER, METRICS, RETRAINING
from exporter.collector import DriftCollector
from exporter.comparison_collector import ComparisonCollector
from drift.snapshot import compute
from mixin import metrics_doc
from mixin.__main__ import outputs, unknown_series
from scripts.retrain_webhook import Retrainer
from tests.unit.test_collector import POLICY, FakeMonitor, filled_window

ROOT = Path(__file__).resolve().parents[2]


def exporter_registry() -> CollectorRegistry:
    """The exporter's two collectors over one judged window, also as a judged span, as the exporter registers them."""
    snap = compute(filled_window(3000, x_shift=0.5), POLICY, now=10.0)
    snap.model_version = "0"
    monitor = FakeMonitor({"m/0": snap})
    monitor.span_snapshots = {"m/0": {"5m": snap}}
    registry = CollectorRegistry()
    registry.register(DriftCollector(monitor))
    registry.register(ComparisonCollector(monitor))
    return registry


def test_the_exporter_exposes_every_table_entry_of_its_own_and_nothing_else_with_the_tables_help_type_and_labels():
    families = {f.name: f for f in exporter_registry().collect()}
    table = {s.family: s for s in METRICS.values() if s.exposed_by == EXPORTER}
    assert set(families) == set(table)
    with_samples = 0
    for name, fam in families.items():
        spec = table[name]
        assert (fam.documentation, fam.type, fam.unit) == (spec.help, spec.type, spec.unit), name
        for sample in fam.samples:
            assert tuple(sample.labels) == spec.labels, name
        with_samples += bool(fam.samples)
    assert with_samples >= 30  # the label check ran on most families, not only on empty ones


def test_the_exporters_text_passes_promtool_check_metrics():
    text = generate_latest(exporter_registry())
    check = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True)
    assert check.returncode == 0, check.stdout + check.stderr


def test_the_retraining_webhooks_metrics_come_from_the_table(tmp_path):
    retrainer = Retrainer(None, cooldown=1, alerts=set(), command=["true"], log_dir=tmp_path)
    families = {f.name: f for f in retrainer.registry.collect()}
    table = {s.family: s for s in METRICS.values() if s.exposed_by == RETRAINING}
    assert set(families) == set(table)
    for name, wrapper in ((names.RETRAIN_TRIGGERS, retrainer.triggers), (names.RETRAIN_RUNS, retrainer.runs),
                          (names.RETRAIN_IN_PROGRESS, retrainer.in_progress),
                          (names.RETRAIN_LAST_DURATION, retrainer.duration)):
        spec = names.spec(name)
        assert (families[spec.family].documentation, families[spec.family].type) == (spec.help, spec.type)
        assert tuple(wrapper._labelnames) == spec.labels


def test_the_table_follows_prometheus_naming():
    for spec in METRICS.values():
        assert re.fullmatch(r"ml_[a-z0-9_]+", spec.name), spec.name
        assert spec.series.endswith("_total") == (spec.type == COUNTER), spec.name
        assert spec.help and spec.labels == tuple(dict.fromkeys(spec.labels)), spec.name
    with pytest.raises(ValueError, match="twice"):
        names._metric(names.DRIFT_PSI, names.GAUGE, "again")
    with pytest.raises(ValueError, match="_seconds"):
        names._metric("ml_cycle_duration", names.GAUGE, "no unit suffix", unit="seconds")


def test_every_ml_series_the_rules_and_dashboards_query_is_in_the_table():
    files = outputs()
    assert not unknown_series(files)
    broken = {path: text.replace("ml_drift_psi", "ml_drift_psy") for path, text in files.items()}
    assert unknown_series(broken) == {"ml_drift_psy"}  # what python -m mixin refuses to write


def test_docs_metrics_page_is_generated_from_the_table_and_current():
    page = (ROOT / "docs" / "metrics.md").read_text()
    assert page == metrics_doc.render(), "docs/metrics.md is stale: run python -m mixin"
    for spec in METRICS.values():
        assert f"| `{spec.series}` | {spec.type} |" in page
