"""The Grafana dashboards (the spec's tabs: Overview, Drift, Performance; and Model comparison, champion vs
challenger), built from mixin/config.yml.

    python -m mixin                       # rewrites grafana/dashboards/*.json (and the rules)
    python -m mixin.dashboards            # the dashboards only

Dashboards as code: each panel is one call here; a test checks the JSON files are up to date and,
against the live stack, that every panel's query returns data.
"""
from __future__ import annotations

import json

from drift_client.tasks import BINARY, MULTICLASS, REGRESSION, TASK, Task
from mixin import ROOT, config, policy, task_board
from mixin.rules import seconds

OUT = ROOT / "grafana" / "dashboards"
MODEL = 'model_name="$model_name", model_version="$model_version"'
HEALTH_MAPPINGS = [{"type": "value", "options": {
    "0": {"text": "Healthy", "color": "green", "index": 0},
    "1": {"text": "Warning", "color": "orange", "index": 1},
    "2": {"text": "Critical", "color": "red", "index": 2}}}]
# Grafana 11.1's defaults for each panel kind, written out because its schema (@grafana/schema) requires them and
# `python -m grafana.typecheck` checks every panel against it; a panel's own options override them key by key.
LEGEND = {"showLegend": True, "displayMode": "list", "placement": "bottom", "calcs": []}
TOOLTIP = {"mode": "single", "sort": "none"}
REDUCE = {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False}, "orientation": "auto"}
PANEL_OPTIONS = {
    "timeseries": {"legend": LEGEND, "tooltip": TOOLTIP},
    "state-timeline": {"legend": LEGEND, "tooltip": TOOLTIP, "showValue": "auto", "mergeValues": True, "rowHeight": 0.9,
                       "alignValue": "left"},
    "stat": {**REDUCE, "colorMode": "value", "graphMode": "area", "justifyMode": "auto", "textMode": "auto", "wideLayout": True,
             "showPercentChange": False, "percentChangeColorMode": "standard"},
    "bargauge": {**REDUCE, "displayMode": "gradient", "valueMode": "color", "namePlacement": "auto", "showUnfilled": True,
                 "sizing": "auto", "minVizWidth": 8, "minVizHeight": 16, "maxVizHeight": 300},
    "table": {"showHeader": True, "cellHeight": "sm", "frameIndex": 0},
}
LINK = {"asDropdown": False, "icon": "dashboard", "includeVars": False, "keepTime": False, "tags": [], "targetBlank": False,
        "tooltip": ""}


def datasource() -> dict:
    return {"type": "prometheus", "uid": config()["links"]["datasource_uid"]}


def steps(*pairs: tuple[str, float | None]) -> list[dict]:
    return [{"color": color, "value": value} for color, value in pairs]


def merged(defaults: dict, overrides: dict) -> dict:
    """defaults updated by overrides, nested dicts merged key by key."""
    out = dict(defaults)
    for key, value in overrides.items():
        out[key] = merged(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def psi_steps() -> list[dict]:
    p = policy()
    return steps(("green", None), ("orange", p.psi_warning), ("red", p.psi_threshold))


def psi_bands() -> str:
    p = policy()
    return f"< {p.psi_warning:g} ok, {p.psi_warning:g}-{p.psi_threshold:g} moderate, >= {p.psi_threshold:g} significant"


class Board:
    def __init__(self, key: str, title: str, description: str, task: str | None = None) -> None:
        """`task` (drift_client.tasks): the board lists only that task's models (its panels are that task's figures)."""
        self.uid = config()["links"]["dashboard_uids"][key]
        self.title, self.description = title, description
        self.models = f'ml_model_info{{task="{task}"}}' if task else "ml_model_info"
        task_matcher = f', task="{task}"' if task else ""
        self.versions = f'ml_model_info{{model_name="$model_name"{task_matcher}}}'
        self.panels: list[dict] = []
        self.x = self.y = self.row_height = 0

    def add(self, kind: str, title: str, targets: list[tuple[str, str]], width: int = 12, height: int = 8,
            unit: str = "none", thresholds: list | None = None, mappings: list | None = None, options: dict | None = None,
            instant: bool = False, description: str = "", decimals: int | None = None, no_value: str | None = None,
            overrides: list | None = None, links: list | None = None) -> None:
        if self.x + width > 24:
            self.x, self.y = 0, self.y + self.row_height
            self.row_height = 0
        ds = datasource()
        defaults = {"unit": unit, "mappings": mappings or [],
                    "thresholds": {"mode": "absolute", "steps": thresholds or steps(("green", None))}}
        if thresholds:
            defaults["color"] = {"mode": "thresholds"}
        if decimals is not None:
            defaults["decimals"] = decimals
        if no_value is not None:  # what the panel says when the series is absent: why it can be empty
            defaults["noValue"] = no_value
        if links:  # data links: a click on a value
            defaults["links"] = links
        if kind == "timeseries" and thresholds:
            defaults["custom"] = {"thresholdsStyle": {"mode": "dashed"}}
        self.panels.append({
            "id": len(self.panels) + 1, "type": kind, "title": title, "description": description, "datasource": ds,
            "gridPos": {"x": self.x, "y": self.y, "w": width, "h": height},
            "targets": [{"refId": chr(65 + i), "datasource": ds, "expr": expr, "legendFormat": legend,
                         "instant": instant, "range": not instant, **({"format": "table"} if kind == "table" else {})}
                        for i, (expr, legend) in enumerate(targets)],
            "fieldConfig": {"defaults": defaults, "overrides": overrides or []},
            "options": merged(PANEL_OPTIONS.get(kind, {}), options or {}),
        })
        self.x += width
        self.row_height = max(self.row_height, height)

    def json(self) -> dict:
        c = config()
        ds = datasource()
        variables = [
            {"name": "model_name", "label": "Model", "type": "query", "datasource": ds,
             "query": {"query": f"label_values({self.models}, model_name)", "refId": "model_name"},
             "refresh": 2, "sort": 1, "options": []},
            {"name": "model_version", "label": "Version", "type": "query", "datasource": ds,
             "query": {"query": f"label_values({self.versions}, model_version)", "refId": "model_version"},
             "refresh": 2, "sort": 1, "options": []},
            {"name": "span", "label": "Judged window", "type": "query", "datasource": ds,
             "query": {"query": 'label_values(ml_drift_span_samples{model_name="$model_name"}, span)', "refId": "span"},
             "refresh": 2, "sort": 0, "options": []},
        ]
        uids = c["links"]["dashboard_uids"]
        links = [{"title": title, "url": f"/d/{uids[key]}?${{__url_time_range}}&${{__all_variables}}", "type": "link", **LINK}
                 for key, title in (("overview", "Overview"), ("drift", "Drift"), ("performance", "Performance"),
                                    ("regression", "Regression"), ("multiclass", "Multiclass"),
                                    ("comparison", "Model comparison"))]
        d = c["dashboards"]
        return {"uid": self.uid, "title": self.title, "description": self.description, "tags": ["ml", "drift"],
                "schemaVersion": d["schema_version"], "version": 1, "editable": False, "refresh": d["refresh"],
                "time": {"from": d["time_from"], "to": "now"}, "timezone": "browser", "links": links,
                "templating": {"list": variables}, "annotations": {"list": []}, "panels": self.panels}


def headline(series: str, selector: str = MODEL, tasks: tuple[Task, ...] = tuple(TASK.values())) -> str:
    """`series` (ml_model_performance and its kin, by `metric`) of the selected models, each only in its task's
    headline metrics (drift_client.tasks: the task is ml_model_info's label) and labelled `board` with the uid of its
    task's board, which the tiles' data links open."""
    uids = config()["links"]["dashboard_uids"]
    return " or ".join(
        f'label_replace({series}{{{selector}, metric=~"{"|".join(task.headline)}"}} and on (model_name, model_version) '
        f'ml_model_info{{task="{task.name}"}}, "board", "{uids[task_board(task.name)]}", "", "")' for task in tasks)


def quality_tile(b: Board, title: str, series: str, tasks: tuple[Task, ...], no_value: str, description: str) -> None:
    """A stat of the selected model's headline metrics (one value per metric), ROC AUC coloured at the config's
    bands, linking to the task's board."""
    t = config()["thresholds"]
    roc_auc = [{"id": "color", "value": {"mode": "thresholds"}},
               {"id": "thresholds", "value": {"mode": "absolute", "steps": steps(
                   ("red", None), ("orange", t["roc_auc_warning"]), ("green", t["roc_auc_good"]))}}]
    b.add("stat", title, [(headline(series, tasks=tasks), "{{metric}}")], width=6, height=5, decimals=3,
          no_value=no_value, description=description, options={"graphMode": "none"},
          overrides=[{"matcher": {"id": "byName", "options": "roc_auc"}, "properties": roc_auc}],
          links=[{"title": "The model's task board", "url": "/d/${__field.labels.board}?${__url_time_range}&${__all_variables}"}])


def overview() -> Board:
    c = config()
    sel = c["selectors"]
    predictions = f'bentoml_service_request_total{{job="{sel["service_job"]}", endpoint=~"{sel["predict_endpoints"]}", http_response_code="200"}}'
    b = Board("overview", "ML model: Overview", "Health, model, traffic and quality at a glance, for a "
              "model of any task (its quality tiles show the task's headline figures and open its board).")
    b.add("stat", "Health status", [(f"ml_model_health_status{{{MODEL}}}", "")], width=6, height=5, mappings=HEALTH_MAPPINGS,
          thresholds=steps(("green", None), ("orange", 1), ("red", 2)), options={"colorMode": "background", "graphMode": "none"},
          no_value="Not judged",
          description=f"The exporter's verdict: 0 healthy, 1 warning (a feature drifted or PSI {policy().psi_warning:g}-"
                      f"{policy().psi_threshold:g}), 2 critical. Not judged (no series): too few predictions in the "
                      "window, or its samples refused for another schema (DriftNotJudged says which).")
    b.add("table", "Model", [(f"ml_model_info{{{MODEL}}}", "")], width=6, height=5, instant=True,
          description="Name, version and training time of the model being monitored.")
    no_service = "No service metrics (a model published by drift_client alone: see the window's counts)"
    b.add("stat", "Predictions served (time range)", [(f"sum(increase({predictions}[$__range]))", "")], width=6, height=5,
          decimals=0, options={"graphMode": "none"}, no_value=no_service,
          description="Requests the BentoML service answered (its job in mixin/config.yml).")
    b.add("stat", "Prediction rate", [(f'sum(job_endpoint:bentoml_service_request:rate{c["windows"]["request_rate"]}'
                                       f'{{endpoint=~"{sel["predict_endpoints"]}"}})', "req/s")],
          width=6, height=5, unit="reqps", no_value=no_service)
    every = tuple(TASK.values())
    quality_tile(b, "Quality (labelled window)", "ml_model_performance", every,
                 "No labelled window yet (MIN_LABELLED_SAMPLES)",
                 "The task's headline figures over the labelled predictions in the window: " + "; ".join(
                     f"{task.name} {', '.join(task.headline)}" for task in every) + ". A click opens the task's board.")
    estimated = tuple(task for task in every if task.estimates)
    quality_tile(b, "Quality estimated without labels", "ml_model_estimated_performance", estimated,
                 f"None: {', '.join(task.name for task in estimated)} models only",
                 "Confidence-based estimate (CBPE) from the window's calibrated scores, there before any label: exists "
                 f"for {', '.join(task.name for task in estimated)} models only (a {estimated[0].name} model shows none "
                 "while its window holds too few scores).")
    b.add("stat", "Features drifting", [(f"sum(ml_drift_detected{{{MODEL}}})", "")], width=6, height=5,
          thresholds=steps(("green", None), ("red", 1)))
    b.add("stat", "Predictions / labels in the drift window", [(f'ml_window_samples{{{MODEL}, kind="predictions"}}', "predictions"),
                                                               (f'ml_window_samples{{{MODEL}, kind="labels"}}', "labels")],
          width=6, height=5)
    b.add("table", "Firing alerts", [('ALERTS{alertstate="firing"}', "")], width=24, height=7, instant=True,
          no_value="Nothing firing",
          description="Every alert Prometheus is firing now (the ALERTS series); notifications go through Alertmanager.")
    return b


def drift() -> Board:
    p = policy()
    b = Board("drift", "ML model: Drift", f"Which features drift, by how much, and which explain it. PSI: {psi_bands()}.")
    b.add("state-timeline", "PSI per feature over time", [(f"ml_drift_psi{{{MODEL}}}", "{{feature}}")], width=24, height=10,
          thresholds=psi_steps(), decimals=3, options={"showValue": "never", "mergeValues": False, "rowHeight": 0.8},
          description=f"Each row is a feature; green under {p.psi_warning:g}, orange {p.psi_warning:g}-{p.psi_threshold:g}, "
                      f"red at {p.psi_threshold:g} and above.")
    span = f'{MODEL}, span="$span"'
    b.add("state-timeline", "Drift flags in the judged window $span (1 = the drift rule flags; alerts pair 5m with 1h, "
          "1h with 24h)", [(f"ml_drift_span_detected{{{span}}}", "{{feature}}")], width=12, height=8,
          options={"showValue": "never", "mergeValues": False, "rowHeight": 0.8})
    b.add("timeseries", "KS D in the judged window $span (coarse grid: at most 1/512 under the exact D)",
          [(f'ml_drift_span_test_statistic{{{span}, test="ks"}}', "{{feature}}")], width=12, height=8, decimals=3)
    b.add("bargauge", "Current PSI per feature", [(f"ml_drift_psi{{{MODEL}}}", "{{feature}}")], thresholds=psi_steps(),
          instant=True, decimals=3, options={"orientation": "horizontal", "displayMode": "gradient"})
    b.add("bargauge", "Drift attribution (importance x PSI, flagged features)", [(f"ml_drift_attribution_ratio{{{MODEL}}}", "{{feature}}")],
          unit="percentunit", instant=True, options={"orientation": "horizontal", "displayMode": "basic"},
          no_value="No feature flagged", description="Share of the overall drift impact owed to each feature: which drift matters for this model.")
    b.add("timeseries", "KS statistic D", [(f"ml_drift_ks_statistic{{{MODEL}}}", "{{feature}}")],
          thresholds=steps(("green", None), ("red", p.ks_min_statistic)),
          description=f"Two-sample Kolmogorov-Smirnov D; the drift rule needs D >= {p.ks_min_statistic:g} as well as significance.")
    b.add("timeseries", f"KS p-value (rule: < {p.family_wise_level * (1 - p.quality_level_share):.3g} / the model's p-value tests, Bonferroni)", [(f"ml_drift_ks_pvalue{{{MODEL}}}", "{{feature}}")],
          options={"legend": {"displayMode": "list", "placement": "bottom"}})
    b.add("table", "Drift tests per feature (1 = flags)", [(f"ml_drift_test_detected{{{MODEL}}}", "")], instant=True,
          description="Each feature is judged by the tests of its kind (numeric: PSI + KS; discrete, binary, categorical: "
                      "PSI + chi-square) or those the monitoring config gives it; one row per feature and test.")
    b.add("table", "Mean: reference vs current", [(f"ml_feature_mean{{{MODEL}}}", "")], instant=True)
    b.add("table", "Standard deviation: reference vs current", [(f"ml_feature_stddev{{{MODEL}}}", "")], instant=True)
    f = config()["forecast"]
    b.add("timeseries", f"PSI forecast: where the last {f['lookback']}'s trend puts each feature in {f['horizon']}",
          [(f"predict_linear(ml_drift_psi{{{MODEL}}}[{f['lookback']}], {seconds(f['horizon'])})", "{{feature}} in " + f["horizon"])],
          width=24, thresholds=psi_steps(), decimals=3,
          description="predict_linear over the PSI history; FeatureDriftForecast warns when a line crosses the red band.")
    b.add("timeseries", "Prediction drift (PSI, KS D of a score or predicted value, the drift rule's flag)",
          [(f"ml_drift_prediction_psi{{{MODEL}}}", "PSI"), (f"ml_drift_prediction_ks_statistic{{{MODEL}}}", "KS D"),
           (f"ml_drift_prediction_detected{{{MODEL}}}", "flagged")], width=24, thresholds=psi_steps(),
          description="The predictions judged as a column: a binary score or a regression's predicted values as a numeric "
                      "one (PSI, KS), a multiclass model's predicted classes as a categorical one (PSI, chi-square: no KS).")
    return b


def performance() -> Board:
    c = config()
    t, w = c["thresholds"], c["windows"]
    latency = "job_endpoint_quantile:bentoml_service_request_duration_seconds:histogram_quantile"
    b = Board("performance", "ML model: Performance", "Binary classifiers (regression and multiclass models have their "
              "own boards): quality over labelled predictions, traffic, latency and drift trends.", task=BINARY)
    b.add("timeseries", "Quality over the labelled window (accuracy, precision, recall, F1, ROC AUC)",
          [(f"ml_model_performance{{{MODEL}}}", "{{metric}}"),
           (f'ml_model_reference_performance{{{MODEL}, metric="roc_auc"}}', "roc_auc (test split)")],
          width=24, unit="percentunit")
    f, watched = c["forecast"], t["estimated_metrics"]
    b.add("timeseries", "Estimated performance without labels (CBPE) with its 95% interval, and its forecast",
          [(f'ml_model_estimated_performance{{{MODEL}, metric=~"{watched}"}}', "{{metric}} estimated"),
           (f'ml_model_estimated_performance_interval{{{MODEL}, metric=~"{watched}"}}', "{{metric}} {{bound}}"),
           (f'ml_model_performance{{{MODEL}, metric=~"{watched}"}}', "{{metric}} realized (labels)"),
           (f'ml_model_reference_performance{{{MODEL}, metric=~"{watched}"}} - {policy().performance_drop:g}', "{{metric}} alert line"),
           (f'predict_linear(ml_model_estimated_performance{{{MODEL}, metric=~"{watched}"}}[{f["lookback"]}], '
            f'{seconds(f["horizon"])})', "{{metric}} in " + f["horizon"])],
          width=24, unit="percentunit",
          description="Estimated from the window's calibrated scores alone, so it is there before any chargeback; the alert "
                      "line is the test split minus the tolerance. Interval: lower/upper from sampling alone (what the "
                      "alert reads), total_lower/total_upper with the calibrator's own error (what large windows need).")
    b.add("timeseries", "Estimated vs realized gap (realized - estimated)",
          [(f"ml_model_estimated_performance_gap{{{MODEL}}}", "{{metric}}")], width=24,
          thresholds=steps(("green", None)),
          description="Near 0 while the estimate holds. A gap that widens while the inputs are stable means the relation "
                      "between features and fraud changed (concept drift), which score-based estimation cannot see.")
    b.add("timeseries", "Predictions per hour", [(f"sum(job:ml_predictions:rate{w['latency']}) * 3600", "predictions/h")])
    b.add("timeseries", "Prediction latency p50 / p95 / p99",
          [(f'{latency}{{endpoint="{c["selectors"]["latency_endpoint"]}"}}', "p{{quantile}}")],
          unit="s", thresholds=steps(("green", None), ("red", t["latency_p95_seconds"])))
    b.add("timeseries", "Predicted vs observed fraud rate", [(f"ml_prediction_positive_ratio{{{MODEL}}}", "predicted"),
                                                              (f"ml_label_positive_ratio{{{MODEL}}}", "observed (labels)")],
          unit="percentunit")
    b.add("timeseries", "Drift trend: max PSI and features drifting", [(f"max(ml_drift_psi{{{MODEL}}})", "max PSI"),
                                                                       (f"sum(ml_drift_detected{{{MODEL}}})", "features drifting")],
          thresholds=psi_steps())
    b.add("timeseries", "Monitoring samples published / dropped",
          [(f"sum by (outcome) (rate(ml_monitoring_samples_total{{{MODEL}}}[5m]))", "{{outcome}}")], unit="reqps")
    b.add("timeseries", "Exporter refresh duration", [("ml_exporter_cycle_duration_seconds", "cycle")], unit="s")
    return b


NAME = 'model_name="$model_name"'
WITH_ROLE = "* on (model_name, model_version) group_left (role) ml_model_version_role"
# the comparison (paired DeLong, promotion rule) is of ROC AUC: binary models only (drift_client.tasks)
NO_COMPARISON = "No comparison (needs a challenger; binary models only)"


def comparison() -> Board:
    """Champion and challenger side by side: performance and its difference with its interval, drift, traffic."""
    b = Board("comparison", "ML model: Model comparison",
              "Champion vs challenger on the same traffic (shadow: paired, DeLong) or on their own arms (A/B).")
    b.add("table", "Serving versions and mode", [(f"ml_model_version_role{{{NAME}}}", "")], width=8, height=5, instant=True,
          description="Which version answers (champion), which is compared with it (challenger), and the mode.")
    b.add("stat", "Challenger beats the champion", [(f"ml_model_comparison_challenger_wins{{{NAME}}}", "")], width=4, height=5,
          no_value=NO_COMPARISON,
          mappings=[{"type": "value", "options": {"0": {"text": "Not yet", "color": "orange", "index": 0},
                                                  "1": {"text": "Yes", "color": "green", "index": 1}}}],
          options={"colorMode": "background", "graphMode": "none"},
          description="The promotion rule: enough labelled traffic and the whole 95% interval of the ROC AUC difference "
                      "above the required improvement (PROMOTION_MIN_IMPROVEMENT).")
    b.add("stat", "DeLong p-value (equal ROC AUC)", [(f"ml_model_comparison_pvalue{{{NAME}}}", "")], width=4, height=5,
          decimals=4, options={"graphMode": "none"}, no_value=NO_COMPARISON)
    b.add("stat", "A/B share answered by the challenger", [(f"ml_model_ab_share{{{NAME}}}", "")], width=4, height=5,
          unit="percentunit", options={"graphMode": "none"}, no_value="Not in A/B mode")
    b.add("stat", "Labelled predictions compared", [(f"ml_model_comparison_labelled_samples{{{NAME}}}", "{{role}}")],
          width=4, height=5, decimals=0, options={"graphMode": "none"}, no_value=NO_COMPARISON)
    b.add("timeseries", "ROC AUC difference (challenger - champion) with its 95% interval",
          [(f'ml_model_comparison_difference{{{NAME}, metric="roc_auc"}}', "difference"),
           (f"ml_model_comparison_difference_interval{{{NAME}}}", "{{bound}}")], width=24,
          thresholds=steps(("green", None)), no_value=NO_COMPARISON,
          description="Above 0 with the lower bound above 0: the challenger ranks fraud better, significantly.")
    b.add("timeseries", "ROC AUC: champion vs challenger",
          [(f'ml_model_comparison_performance{{{NAME}, metric="roc_auc"}}', "{{role}} {{model_version}}")], decimals=3,
          no_value=NO_COMPARISON)
    b.add("timeseries", "Average precision: champion vs challenger",
          [(f'ml_model_comparison_performance{{{NAME}, metric="average_precision"}}', "{{role}} {{model_version}}")],
          decimals=3, no_value=NO_COMPARISON)
    b.add("timeseries", "Quality of each version (labelled window)",
          [(f"({headline('ml_model_performance', NAME)}) {WITH_ROLE}", "{{metric}} {{role}} {{model_version}}")],
          width=24, decimals=3, no_value="No labelled window yet (MIN_LABELLED_SAMPLES)",
          description="Each version's own labelled window, in its task's headline figures (the comparison above is "
                      "for binary models; this is for every task, unpaired).")
    b.add("timeseries", "Score drift of each version (PSI against its own test split)",
          [(f"ml_drift_prediction_psi{{{NAME}}} {WITH_ROLE}", "{{role}} {{model_version}}")], thresholds=psi_steps())
    b.add("timeseries", "Features drifting, per version",
          [(f"sum by (model_version, role) (ml_drift_detected{{{NAME}}} {WITH_ROLE})", "{{role}} {{model_version}}")])
    b.add("timeseries", "Predictions in each version's window (traffic share)",
          [(f'ml_window_samples{{{NAME}, kind="predictions"}} {WITH_ROLE}', "{{role}} {{model_version}}")], width=24)
    return b


def _task_common(b: Board) -> None:
    """What every task's board shows besides its own figures: labelled counts, drift trend."""
    b.add("stat", "Predictions / labels in the window", [(f'ml_window_samples{{{MODEL}, kind="predictions"}}', "predictions"),
                                                         (f'ml_window_samples{{{MODEL}, kind="labels"}}', "labels")],
          width=6, height=8, description="Performance is computed from MIN_LABELLED_SAMPLES labelled predictions on.")
    b.add("timeseries", "Drift trend: max PSI and features drifting", [(f"max(ml_drift_psi{{{MODEL}}})", "max PSI"),
                                                                       (f"sum(ml_drift_detected{{{MODEL}}})", "features drifting")],
          width=18, thresholds=psi_steps())


def regression() -> Board:
    """Regression models (drift_client.tasks): errors and R² against the test split, the predictions' drift."""
    p = policy()
    b = Board("regression", "ML model: Regression", "Regression models: errors over labelled predictions against the "
              "test split, and drift of the predicted values.", task=REGRESSION)
    b.add("timeseries", "MAE and RMSE over the labelled window vs the test split",
          [(f'ml_model_performance{{{MODEL}, metric=~"mae|rmse"}}', "{{metric}}"),
           (f'ml_model_reference_performance{{{MODEL}, metric=~"mae|rmse"}}', "{{metric}} (test split)"),
           (f'ml_model_reference_performance{{{MODEL}, metric=~"mae|rmse"}} * (1 + {p.performance_error_rise:g})',
            "{{metric}} alert line")],
          description="In the target's units. ModelErrorRose fires above the alert line (test split + "
                      f"{p.performance_error_rise * 100:g}%).")
    b.add("timeseries", "R² over the labelled window vs the test split",
          [(f'ml_model_performance{{{MODEL}, metric="r2"}}', "r2"),
           (f'ml_model_reference_performance{{{MODEL}, metric="r2"}}', "r2 (test split)"),
           (f'ml_model_reference_performance{{{MODEL}, metric="r2"}} - {p.performance_drop:g}', "alert line")], decimals=3)
    b.add("timeseries", "Prediction drift (PSI and KS D of the predicted values)",
          [(f"ml_drift_prediction_psi{{{MODEL}}}", "PSI"), (f"ml_drift_prediction_ks_statistic{{{MODEL}}}", "KS D")],
          width=24, thresholds=psi_steps())
    _task_common(b)
    return b


def multiclass() -> Board:
    """Multiclass models (drift_client.tasks): accuracy, macro F1 and log loss against the test split, predicted classes."""
    p = policy()
    b = Board("multiclass", "ML model: Multiclass", "Multiclass models: accuracy, macro F1 and log loss over labelled "
              "predictions against the test split, and the predicted classes' shares.", task=MULTICLASS)
    b.add("timeseries", "Accuracy and macro F1 over the labelled window vs the test split",
          [(f'ml_model_performance{{{MODEL}, metric=~"accuracy|macro_f1"}}', "{{metric}}"),
           (f'ml_model_reference_performance{{{MODEL}, metric=~"accuracy|macro_f1"}}', "{{metric}} (test split)"),
           (f'ml_model_reference_performance{{{MODEL}, metric=~"accuracy|macro_f1"}} - {p.performance_drop:g}',
            "{{metric}} alert line")], unit="percentunit")
    b.add("timeseries", "Log loss over the labelled window vs the test split",
          [(f'ml_model_performance{{{MODEL}, metric="log_loss"}}', "log loss"),
           (f'ml_model_reference_performance{{{MODEL}, metric="log_loss"}}', "log loss (test split)")], decimals=3,
          description="Realized only when the client logs class probabilities (a bare predicted class has none).")
    b.add("timeseries", "Predicted-class shares", [(f"ml_prediction_class_ratio{{{MODEL}}}", "{{class}}")],
          unit="percentunit")
    b.add("timeseries", "Prediction drift (PSI of the predicted classes)",
          [(f"ml_drift_prediction_psi{{{MODEL}}}", "PSI"), (f"ml_drift_prediction_detected{{{MODEL}}}", "flagged (chi-square)")],
          thresholds=psi_steps())
    _task_common(b)
    return b


def build() -> dict[str, dict]:
    return {board.uid: board.json() for board in (overview(), drift(), performance(), regression(), multiclass(),
                                                  comparison())}


def render() -> dict[str, str]:
    """File name -> text, as committed under grafana/dashboards/."""
    return {f"{uid}.json": json.dumps(board, indent=2) + "\n" for uid, board in build().items()}


def main() -> None:
    OUT.mkdir(exist_ok=True)
    for name, text in render().items():
        (OUT / name).write_text(text)
        print(OUT / name)


if __name__ == "__main__":
    main()
