"""A scikit-learn regressor (load_diabetes) and a multiclass classifier (load_wine), each published through
drift_client to a real redis-server and judged by the real exporter (`python -m exporter`), then by the CLI:
the figures are the task's, checked against sklearn.metrics, and no binary figure appears (issue 22, finding 1)."""
from __future__ import annotations

import json
import math
import re
import subprocess
import time
import urllib.parse

import numpy as np
import pytest
import redis
from sklearn import metrics as sk
from sklearn.datasets import load_diabetes, load_wine
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.model_selection import train_test_split

from contracts import model_versions
from drift_client.schema import FeatureSpec, ModelSchema
from drift_client.tasks import MULTICLASS, REGRESSION, task_of
from drift_client import DriftClient, profile_from_training
from mixin import config, task_board
from scripts import servers
from tests.helpers import http, series, wait_for
from tests.integration.test_data_quality_alerts import prometheus_config

pytestmark = pytest.mark.integration
ENV = {"MONITORING_INTERVAL": "0.5", "MIN_WINDOW_SAMPLES": "100", "MIN_LABELLED_SAMPLES": "100"}
WINE_CLASSES = ["cultivar_a", "cultivar_b", "cultivar_c"]


def substitute(expr: str, variables: dict[str, str]) -> str:
    """A panel's query with the dashboard's variables filled in (as tests/e2e/test_alert_path.py does)."""
    for name, value in variables.items():
        expr = expr.replace(f"${{{name}}}", value).replace(f"${name}", value)
    return expr.replace("$__rate_interval", "1m").replace("$__interval", "15s").replace("$__range", "5m")


def _publish(url: str, name: str, schema: ModelSchema, profile_json: str, X, answers, labels,
             version: str = "1") -> DriftClient:
    client = DriftClient(url, name, version, schema, profile_json).start()
    ids = [f"{name}-{i}" for i in range(len(X))]
    client.log_predictions(ids, X, answers)
    for tid, y in zip(ids, labels):
        client.log_label(tid, y)
    client.stop()
    return client


@pytest.fixture(scope="module")
def stack(log_dir):
    X, y = load_diabetes(return_X_y=True, as_frame=True)
    Xtr, Xte, ytr, yte = train_test_split(X, y, random_state=0)
    regressor = HistGradientBoostingRegressor(max_iter=50, random_state=0).fit(Xtr, ytr)
    d_schema = ModelSchema(tuple(FeatureSpec(c, "numeric") for c in X.columns))
    d_profile = profile_from_training(Xtr, regressor.predict(Xte), ytr, d_schema, model_name="diabetes",
                                      model_version="1", task="regression", test_labels=yte)
    W, c = load_wine(return_X_y=True, as_frame=True)
    Wtr, Wte, ctr, cte = train_test_split(W, c, random_state=0, stratify=c)
    classifier = HistGradientBoostingClassifier(max_iter=30, random_state=0).fit(Wtr, ctr)
    w_schema = ModelSchema(tuple(FeatureSpec(col, "numeric") for col in W.columns))
    w_profile = profile_from_training(Wtr, classifier.predict_proba(Wte), ctr, w_schema, model_name="wine",
                                      model_version="1", task="multiclass", classes=WINE_CLASSES, test_labels=cte)
    with servers.start_redis(log_dir) as redis_srv:
        url = redis_srv.extra["url"]
        _publish(url, "diabetes", d_schema, d_profile.to_json(), X, regressor.predict(X), y.tolist())
        # a challenger in shadow mode: champion/challenger comparison is ROC AUC (binary) and must leave a regressor alone
        # (its own profile: a profile naming version 1 published as version 2 was exported under version 1, twice)
        d_profile_2 = profile_from_training(Xtr, regressor.predict(Xte) + 5, ytr, d_schema, model_name="diabetes",
                                            model_version="2", task="regression", test_labels=yte)
        _publish(url, "diabetes", d_schema, d_profile_2.to_json(), X, regressor.predict(X) + 5, y.tolist(), version="2")
        model_versions.save(redis.Redis.from_url(url), "diabetes", model_versions.VersionsState(
            "1", "2", "shadow", available=("1", "2")))
        _publish(url, "wine", w_schema, w_profile.to_json(), W, classifier.predict_proba(W),
                 [WINE_CLASSES[k] for k in c])  # labels by class name
        with servers.start_exporter(log_dir, url, env=ENV) as exporter:
            yield exporter, url, (X, y, regressor, d_profile), (W, c, classifier, w_profile)


def _model_report(exporter, name: str, rows: int) -> dict:
    def ready():
        status, body = http("GET", f"{exporter.url}/api/v1/monitoring/drift/latest?hours=1")
        found = next((m for m in body["models"] if m["model_name"] == name and m["model_version"] == "1"), None)
        return found if found and found["predictions"] == rows and found["labels"] == rows and found["performance"] else None
    return wait_for(ready, timeout=30)


def test_the_exporter_judges_a_regressor_by_its_errors(stack):
    exporter, url, (X, y, regressor, profile), _ = stack
    r = _model_report(exporter, "diabetes", len(X))
    pred = regressor.predict(X).astype(np.float32).astype(float)
    assert r["task"] == "regression"
    assert r["performance"]["mae"] == pytest.approx(sk.mean_absolute_error(y, pred), rel=1e-5)
    assert r["performance"]["rmse"] == pytest.approx(math.sqrt(sk.mean_squared_error(y, pred)), rel=1e-5)
    assert r["performance"]["r2"] == pytest.approx(sk.r2_score(y, pred), rel=1e-5)
    assert r["reference_performance"] == pytest.approx(profile.metrics)
    assert r["estimated_performance"] == {} and r["prediction_positive_ratio"] is None
    assert "ks_statistic" in r["prediction_drift"]
    text = http("GET", f"{exporter.url}/metrics")[1]
    model = {"model_name": "diabetes", "model_version": "1"}
    assert series(text, "ml_model_info", task="regression", **model) == 1
    assert series(text, "ml_model_performance", metric="mae", **model) == pytest.approx(r["performance"]["mae"])
    assert series(text, "ml_model_reference_performance", metric="r2", **model) == pytest.approx(profile.metrics["r2"])
    for binary_only in ("ml_prediction_positive_ratio", "ml_label_positive_ratio", "ml_model_estimated_performance"):
        assert series(text, binary_only, **model) is None, binary_only
    assert series(text, "ml_model_performance", metric="precision", **model) is None
    assert "ml_model_comparison" not in "".join(l for l in text.splitlines() if 'model_name="diabetes"' in l)


def test_the_exporter_judges_a_multiclass_classifier_by_its_classes(stack):
    exporter, url, _, (W, c, classifier, profile) = stack
    r = _model_report(exporter, "wine", len(W))
    predicted = classifier.predict(W)
    assert r["task"] == "multiclass"
    assert r["performance"]["accuracy"] == pytest.approx(sk.accuracy_score(c, predicted))
    assert r["performance"]["macro_f1"] == pytest.approx(sk.f1_score(c, predicted, average="macro"))
    assert r["performance"]["log_loss"] == pytest.approx(sk.log_loss(c, classifier.predict_proba(W)), rel=1e-5)
    assert r["prediction_class_ratio"] == pytest.approx({name: float(np.mean(predicted == k))
                                                         for k, name in enumerate(WINE_CLASSES)} | {"__unseen__": 0.0})
    assert "chi2_statistic" in r["prediction_drift"] and not r["prediction_drift"]["drifted"]
    text = http("GET", f"{exporter.url}/metrics")[1]
    assert series(text, "ml_model_info", model_name="wine", task="multiclass") == 1
    assert series(text, "ml_prediction_class_ratio", model_name="wine", **{"class": "cultivar_b"}) == \
        pytest.approx(float(np.mean(predicted == 1)))
    assert series(text, "ml_model_estimated_performance", model_name="wine") is None
    check = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True)
    assert check.returncode == 0 and not check.stdout.strip() and not check.stderr.strip(), check.stdout + check.stderr
    assert series(text, "ml_prediction_positive_ratio", model_name="wine") is None


def test_the_cli_reports_the_regressor_from_redis_and_from_files(stack, tmp_path):
    exporter, url, (X, y, regressor, profile), _ = stack
    done = subprocess.run([servers.PYTHON, "-m", "drift_report.cli", "report", "--from-redis", "--model", "diabetes", "--version", "1",
                           "--hours", "1", "--redis-url", url, "--json", str(tmp_path / "live.json")],
                          capture_output=True, text=True, env={**servers.os.environ, "MIN_WINDOW_SAMPLES": "100",
                                                               "MIN_LABELLED_SAMPLES": "100"}, cwd=servers.ROOT)
    assert done.returncode in (0, 1), done.stderr
    assert "task regression" in done.stdout and "mae" in done.stdout and "precision" not in done.stdout
    frame = X.assign(target=y, prediction=regressor.predict(X))
    frame.iloc[::2].to_csv(tmp_path / "ref.csv", index=False)
    frame.iloc[1::2].to_csv(tmp_path / "cur.csv", index=False)
    done = subprocess.run([servers.PYTHON, "-m", "drift_report.cli", "report", "--reference", str(tmp_path / "ref.csv"),
                           "--current", str(tmp_path / "cur.csv"), "--score-column", "prediction", "--label-column",
                           "target"], capture_output=True, text=True, cwd=servers.ROOT,
                          env={**servers.os.environ, "MIN_WINDOW_SAMPLES": "100", "MIN_LABELLED_SAMPLES": "100"})
    assert done.returncode in (0, 1), done.stderr
    half = frame.iloc[1::2]
    mae = sk.mean_absolute_error(half.target, half.prediction.astype(np.float32))
    assert "task regression" in done.stdout and f"mae {mae:.4g}" in done.stdout and "estimated" not in done.stdout
    refused = subprocess.run([servers.PYTHON, "-m", "drift_report.cli", "report", "--reference", str(tmp_path / "ref.csv"),
                              "--current", str(tmp_path / "cur.csv"), "--score-column", "prediction", "--task", "binary"],
                             capture_output=True, text=True, cwd=servers.ROOT)
    assert refused.returncode == 2 and "[0, 1]" in refused.stderr and "Traceback" not in refused.stderr


def test_each_task_board_shows_its_models_figures_and_the_binary_board_does_not_list_them(stack, log_dir, tmp_path):
    """A real Prometheus scraping the exporter: every panel of the regression and multiclass dashboards returns data
    for its model, and each board's model dropdown lists only its task's models."""
    exporter, *_ = stack
    config = prometheus_config(tmp_path / "prometheus.yml", exporter.port)
    with servers.start_prometheus(log_dir, config) as prometheus:
        def query(expr: str) -> list:
            return http("GET", f"{prometheus.url}/api/v1/query?" + urllib.parse.urlencode({"query": expr}))[1]["data"]["result"]

        def label_values(selector: str, label: str) -> list[str]:
            url = f"{prometheus.url}/api/v1/label/{label}/values?" + urllib.parse.urlencode({"match[]": selector})
            return http("GET", url)[1]["data"]

        wait_for(lambda: query('ml_model_performance{model_name="wine", metric="log_loss"}'), timeout=60, interval=1)
        for board, model in (("ml-regression", "diabetes"), ("ml-multiclass", "wine")):
            data = json.loads((servers.ROOT / "grafana" / "dashboards" / f"{board}.json").read_text())
            names = re.fullmatch(r"label_values\((.+), model_name\)", data["templating"]["list"][0]["query"]["query"])
            assert label_values(names.group(1), "model_name") == [model], board
            variables = {"model_name": model, "model_version": "1"}
            empty = [(panel["title"], expr) for panel in data["panels"] for target in panel["targets"]
                     if not query(expr := substitute(target["expr"], variables))]
            assert not empty, f"{board}: panels without data: {empty}"
        binary = json.loads((servers.ROOT / "grafana" / "dashboards" / "ml-performance.json").read_text())
        selector = re.fullmatch(r"label_values\((.+), model_name\)", binary["templating"]["list"][0]["query"]["query"])
        assert not {"diabetes", "wine"} & set(label_values(selector.group(1), "model_name"))


def _board(uid: str) -> dict:
    return json.loads((servers.ROOT / "grafana" / "dashboards" / f"{uid}.json").read_text())


def test_the_shared_boards_show_a_regressor_and_a_multiclass_model_or_say_why_not(stack, log_dir, tmp_path):
    """Overview, Drift and Model comparison are shared by every task. Queried as Grafana would for the regressor
    and the multiclass model against a real Prometheus: a panel whose every query returns nothing must say why
    (its noValue), the Overview shows the task's headline quality figures with a link to the task's board, and
    its label-free estimate tile says it exists for binary models only."""
    exporter, *_ = stack
    prom_config = prometheus_config(tmp_path / "prometheus.yml", exporter.port)
    with servers.start_prometheus(log_dir, prom_config) as prometheus:
        def query(expr: str) -> list:
            return http("GET", f"{prometheus.url}/api/v1/query?" + urllib.parse.urlencode({"query": expr}))[1]["data"]["result"]

        wait_for(lambda: query('ml_model_performance{model_name="wine", metric="log_loss"}')
                 and query('ml_drift_span_samples{model_name="diabetes"}') and query("ml_model_version_role"),
                 timeout=60, interval=1)
        time.sleep(3)  # a few scrapes: the forecast panels' predict_linear needs more than one sample
        results: dict[tuple[str, str], dict[str, list]] = {}
        for uid, model in (("ml-overview", "diabetes"), ("ml-overview", "wine"), ("ml-drift", "diabetes"),
                           ("ml-drift", "wine"), ("ml-comparison", "diabetes")):
            spans = query(f'ml_drift_span_samples{{model_name="{model}"}}')
            variables = {"model_name": model, "model_version": "1",
                         "span": min((s["metric"]["span"] for s in spans), key=len)}
            results[uid, model] = {p["title"]: [r for t in p["targets"] for r in query(substitute(t["expr"], variables))]
                                   for p in _board(uid)["panels"]}
            silent = [p["title"] for p in _board(uid)["panels"]
                      if not results[uid, model][p["title"]] and "noValue" not in p["fieldConfig"]["defaults"]]
            assert not silent, f"{uid} for {model}: panels empty without saying why: {silent}"
        panels = {p["title"]: p for p in _board("ml-overview")["panels"]}
        estimate = panels["Quality estimated without labels"]
        assert "binary models only" in estimate["fieldConfig"]["defaults"]["noValue"].lower()
        link = panels["Quality (labelled window)"]["fieldConfig"]["defaults"]["links"][0]["url"]
        for model, task in (("diabetes", REGRESSION), ("wine", MULTICLASS)):
            assert not results["ml-overview", model][estimate["title"]], model
            quality = results["ml-overview", model]["Quality (labelled window)"]
            assert sorted(r["metric"]["metric"] for r in quality) == sorted(task_of(task).headline), model
            board = config()["links"]["dashboard_uids"][task_board(task)]
            assert {link.replace("${__field.labels.board}", r["metric"]["board"]) for r in quality} == \
                {link.replace("${__field.labels.board}", board)}, model
        roles = {r["metric"]["role"] for r in results["ml-comparison", "diabetes"]["Quality of each version (labelled window)"]}
        assert roles == {"champion", "challenger"}
