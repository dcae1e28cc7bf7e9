"""Build the three Grafana dashboards (the seed's tabs) as JSON for provisioning.

    python -m grafana.build_dashboards      # rewrites grafana/dashboards/*.json

Dashboards as code: each panel is one call here; a test checks the JSON files are up to date
and, against the live stack, that every query returns data.
"""
from __future__ import annotations

import json
from pathlib import Path

OUT = Path(__file__).resolve().parent / "dashboards"
DATASOURCE = {"type": "prometheus", "uid": "prometheus"}
MODEL = 'model_name="$model_name", model_version="$model_version"'
PSI_STEPS = [{"color": "green", "value": None}, {"color": "orange", "value": 0.1}, {"color": "red", "value": 0.25}]
HEALTH_MAPPINGS = [{"type": "value", "options": {
    "0": {"text": "Healthy", "color": "green"}, "1": {"text": "Warning", "color": "orange"}, "2": {"text": "Critical", "color": "red"}}}]


class Board:
    def __init__(self, uid: str, title: str, description: str) -> None:
        self.uid, self.title, self.description = uid, title, description
        self.panels: list[dict] = []
        self.x = self.y = self.row_height = 0

    def add(self, kind: str, title: str, targets: list[tuple[str, str]], width: int = 12, height: int = 8,
            unit: str = "none", steps: list | None = None, mappings: list | None = None, options: dict | None = None,
            instant: bool = False, description: str = "") -> None:
        if self.x + width > 24:
            self.x, self.y = 0, self.y + self.row_height
            self.row_height = 0
        self.panels.append({
            "id": len(self.panels) + 1, "type": kind, "title": title, "description": description, "datasource": DATASOURCE,
            "gridPos": {"x": self.x, "y": self.y, "w": width, "h": height},
            "targets": [{"refId": chr(65 + i), "datasource": DATASOURCE, "expr": expr, "legendFormat": legend,
                         "instant": instant, "range": not instant, **({"format": "table"} if kind == "table" else {})}
                        for i, (expr, legend) in enumerate(targets)],
            "fieldConfig": {"defaults": {"unit": unit, "mappings": mappings or [],
                                         "thresholds": {"mode": "absolute", "steps": steps or [{"color": "green", "value": None}]}},
                            "overrides": []},
            "options": options or {},
        })
        self.x += width
        self.row_height = max(self.row_height, height)

    def json(self) -> dict:
        variables = [
            {"name": "model_name", "label": "Model", "type": "query", "datasource": DATASOURCE,
             "query": {"query": "label_values(ml_model_info, model_name)", "refId": "model_name"},
             "definition": "label_values(ml_model_info, model_name)", "refresh": 2, "current": {}, "options": []},
            {"name": "model_version", "label": "Version", "type": "query", "datasource": DATASOURCE,
             "query": {"query": 'label_values(ml_model_info{model_name="$model_name"}, model_version)', "refId": "model_version"},
             "definition": 'label_values(ml_model_info{model_name="$model_name"}, model_version)', "refresh": 2, "current": {}, "options": []},
        ]
        links = [{"title": t, "url": f"/d/{u}", "type": "link"} for u, t in
                 (("ml-overview", "Overview"), ("ml-drift", "Drift"), ("ml-performance", "Performance"))]
        return {"uid": self.uid, "title": self.title, "description": self.description, "tags": ["ml", "drift"],
                "schemaVersion": 39, "version": 1, "editable": False, "refresh": "10s",
                "time": {"from": "now-1h", "to": "now"}, "timezone": "browser", "links": links,
                "templating": {"list": variables}, "annotations": {"list": []}, "panels": self.panels}


def overview() -> Board:
    b = Board("ml-overview", "ML model: Overview", "Health, model, traffic and quality at a glance.")
    b.add("stat", "Health status", [(f"ml_model_health_status{{{MODEL}}}", "")], width=6, height=5, mappings=HEALTH_MAPPINGS,
          steps=[{"color": "green", "value": None}, {"color": "orange", "value": 1}, {"color": "red", "value": 2}],
          options={"colorMode": "background", "graphMode": "none"})
    b.add("table", "Model", [(f"ml_model_info{{{MODEL}}}", "")], width=6, height=5, instant=True)
    b.add("stat", "Predictions in the window", [(f'ml_window_samples{{{MODEL}, kind="predictions"}}', "")], width=6, height=5)
    b.add("stat", "Prediction rate", [('sum(job_endpoint:bentoml_service_request:rate1m{endpoint=~"/api/v1/predict(_batch)?"})', "req/s")],
          width=6, height=5, unit="reqps")
    b.add("stat", "Accuracy (labelled window)", [(f'ml_model_performance{{{MODEL}, metric="accuracy"}}', "")], width=6, height=5, unit="percentunit")
    b.add("stat", "ROC AUC (labelled window)", [(f'ml_model_performance{{{MODEL}, metric="roc_auc"}}', "")], width=6, height=5,
          steps=[{"color": "red", "value": None}, {"color": "orange", "value": 0.85}, {"color": "green", "value": 0.9}])
    b.add("stat", "Features drifting", [(f"sum(ml_drift_detected{{{MODEL}}})", "")], width=6, height=5,
          steps=[{"color": "green", "value": None}, {"color": "red", "value": 1}])
    b.add("stat", "Labelled predictions", [(f'ml_window_samples{{{MODEL}, kind="labels"}}', "")], width=6, height=5)
    b.add("table", "Firing alerts", [('ALERTS{alertstate="firing"}', "")], width=24, height=7, instant=True)
    return b


def drift() -> Board:
    b = Board("ml-drift", "ML model: Drift", "Which features drift, by how much, and which explain it. PSI: <0.1 ok, 0.1-0.25 moderate, >0.25 significant.")
    b.add("state-timeline", "PSI per feature over time", [(f"ml_drift_psi{{{MODEL}}}", "{{feature}}")], width=24, height=10,
          steps=PSI_STEPS, options={"showValue": "never", "mergeValues": False})
    b.add("bargauge", "Current PSI per feature", [(f"ml_drift_psi{{{MODEL}}}", "{{feature}}")], steps=PSI_STEPS, instant=True,
          options={"orientation": "horizontal", "displayMode": "gradient"})
    b.add("bargauge", "Drift attribution (importance x PSI, flagged features)", [(f"ml_drift_attribution_ratio{{{MODEL}}}", "{{feature}}")],
          unit="percentunit", instant=True, options={"orientation": "horizontal", "displayMode": "basic"})
    b.add("timeseries", "KS statistic D", [(f"ml_drift_ks_statistic{{{MODEL}}}", "{{feature}}")],
          steps=[{"color": "green", "value": None}, {"color": "red", "value": 0.07}])
    b.add("timeseries", "KS p-value (rule: < 0.05/12)", [(f"ml_drift_ks_pvalue{{{MODEL}}}", "{{feature}}")],
          options={"legend": {"displayMode": "list"}})
    b.add("table", "Mean: reference vs current", [(f"ml_feature_mean{{{MODEL}}}", "")], instant=True)
    b.add("table", "Standard deviation: reference vs current", [(f"ml_feature_stddev{{{MODEL}}}", "")], instant=True)
    b.add("timeseries", "Prediction drift (score PSI and KS D)", [(f"ml_drift_prediction_psi{{{MODEL}}}", "PSI"),
                                                                  (f"ml_drift_prediction_ks_statistic{{{MODEL}}}", "KS D")], width=24)
    return b


def performance() -> Board:
    b = Board("ml-performance", "ML model: Performance", "Quality over labelled predictions, traffic, latency and drift trends.")
    b.add("timeseries", "Quality over the labelled window", [(f"ml_model_performance{{{MODEL}}}", "{{metric}}"),
                                                             (f'ml_model_reference_performance{{{MODEL}, metric="roc_auc"}}', "roc_auc (test split)")],
          width=24, unit="percentunit")
    b.add("timeseries", "Predictions per hour", [("sum(job:ml_predictions:rate5m) * 3600", "predictions/h")])
    b.add("timeseries", "Prediction latency", [('job_endpoint_quantile:bentoml_service_request_duration_seconds:histogram_quantile{endpoint="/api/v1/predict"}', "p{{quantile}}")],
          unit="s", steps=[{"color": "green", "value": None}, {"color": "red", "value": 0.015}])
    b.add("timeseries", "Predicted vs observed fraud rate", [(f"ml_prediction_positive_ratio{{{MODEL}}}", "predicted"),
                                                              (f"ml_label_positive_ratio{{{MODEL}}}", "observed (labels)")], unit="percentunit")
    b.add("timeseries", "Drift trend: max PSI and features drifting", [(f"max(ml_drift_psi{{{MODEL}}})", "max PSI"),
                                                                       (f"sum(ml_drift_detected{{{MODEL}}})", "features drifting")])
    b.add("timeseries", "Monitoring samples published / dropped", [("sum by (outcome) (rate(ml_monitoring_samples_total[5m]))", "{{outcome}}")], unit="reqps")
    b.add("timeseries", "Exporter refresh duration", [("ml_exporter_cycle_duration_seconds", "cycle")], unit="s")
    return b


def build() -> dict[str, dict]:
    return {board.uid: board.json() for board in (overview(), drift(), performance())}


def main() -> None:
    OUT.mkdir(exist_ok=True)
    for uid, board in build().items():
        (OUT / f"{uid}.json").write_text(json.dumps(board, indent=2) + "\n")
        print(OUT / f"{uid}.json")


if __name__ == "__main__":
    main()
