"""Offline drift reports: judge a reference and a current data set (or a model version's live window) with the
exporter's own statistics, as JSON, a self-contained HTML page or a `drift-monitor` exit status
(docs/offline-reports.md)."""
from drift_report.errors import BadInput
from drift_report.core import DriftReport
from drift_report.inference import infer_schema

__all__ = ["DriftReport", "BadInput", "infer_schema"]
