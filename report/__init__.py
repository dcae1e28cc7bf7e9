"""Offline drift reports: judge a reference and a current data set (or a model version's live window) with the
exporter's own statistics, as JSON, a self-contained HTML page or a `drift-monitor` exit status
(docs/offline-reports.md)."""
from report.errors import BadInput
from report.core import DriftReport
from report.inference import infer_schema

__all__ = ["DriftReport", "BadInput", "infer_schema"]
