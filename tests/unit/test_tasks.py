"""Tasks (drift_client.tasks): binary, regression and multiclass models published through drift_client and judged by
the exporter's own window and snapshot; every figure checked against sklearn.metrics (issue 22, finding 1)."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as sk
from sklearn.datasets import load_diabetes, load_wine
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.model_selection import train_test_split

from drift_client import redis_layout as layout
from contracts.policy import Policy
from drift_client.reference_profile import ReferenceProfile
from drift_client.schema import FeatureSpec, ModelSchema
from drift_client.tasks import TASK
from drift.performance import multiclass_metrics, regression_metrics, task_performance_dropped
from drift_client import DriftClient, profile_from_training
from drift_client.client import class_probabilities, encode_scores
from drift.snapshot import compute
from drift.live_window import LiveWindow as Window
from tests.helpers import label_batch, prediction_batch

POLICY = Policy(min_window_samples=100, min_labelled_samples=50)


@pytest.fixture(scope="module")
def diabetes():
    X, y = load_diabetes(return_X_y=True, as_frame=True)
    Xtr, Xte, ytr, yte = train_test_split(X, y, random_state=0)
    model = HistGradientBoostingRegressor(max_iter=50, random_state=0).fit(Xtr, ytr)
    schema = ModelSchema(tuple(FeatureSpec(c, "numeric") for c in X.columns))
    return X, y, Xtr, Xte, ytr, yte, model, schema


@pytest.fixture(scope="module")
def wine():
    X, y = load_wine(return_X_y=True, as_frame=True)
    Xtr, Xte, ytr, yte = train_test_split(X, y, random_state=0, stratify=y)
    model = HistGradientBoostingClassifier(max_iter=30, random_state=0).fit(Xtr, ytr)
    schema = ModelSchema(tuple(FeatureSpec(c, "numeric") for c in X.columns))
    return X, y, Xtr, Xte, ytr, yte, model, schema


def _window(profile: ReferenceProfile, X: pd.DataFrame, scores, labels=None, probabilities=None) -> Window:
    window = Window(profile, 3600, 60)
    ids = [f"r{i}" for i in range(len(X))]
    batch = prediction_batch(ids, X.to_numpy(np.float32), scores)
    batch.probabilities = probabilities
    window.add_predictions([(batch, 100.0)])
    if labels is not None:
        window.add_labels([(layout.LabelBatch(ids, np.zeros(len(ids)), np.asarray(labels, np.float32)), 101.0)])
    return window


# ---- finding 1: a regressor's continuous labels and scores are refused for a binary model ------------------------
def test_a_binary_profile_refuses_continuous_labels(diabetes):
    X, y, Xtr, Xte, ytr, yte, model, schema = diabetes
    with pytest.raises(ValueError, match="labels.*0 or 1"):
        profile_from_training(Xtr, None, ytr, schema, model_name="diabetes", model_version="1")


def test_a_binary_profile_refuses_scores_outside_0_1(diabetes):
    X, y, Xtr, Xte, ytr, yte, model, schema = diabetes
    with pytest.raises(ValueError, match="scores.*\\[0, 1\\]"):
        profile_from_training(Xtr, model.predict(Xte), None, schema, model_name="diabetes", model_version="1")


def test_an_unknown_task_is_refused_by_name(diabetes):
    X, y, Xtr, Xte, ytr, yte, model, schema = diabetes
    with pytest.raises(ValueError, match="task"):
        profile_from_training(Xtr, None, None, schema, model_name="m", model_version="1", task="ranking")
    with pytest.raises(ValueError, match="classes"):
        profile_from_training(Xtr, None, None, schema, model_name="m", model_version="1", task="multiclass")


# ---- regression --------------------------------------------------------------------------------------------------
def test_each_tasks_headline_is_among_its_realized_figures():
    """The Overview's quality tile shows a task's headline (mixin/dashboards.py): figures the exporter realizes."""
    for task in TASK.values():
        assert task.headline and set(task.headline) <= set(task.metrics), task.name


def test_regression_metrics_match_sklearn():
    rng = np.random.default_rng(3)
    y = rng.normal(100, 30, 500)
    pred = y + rng.normal(0, 10, 500)
    got = regression_metrics(y, pred)
    assert got["mae"] == pytest.approx(sk.mean_absolute_error(y, pred), rel=1e-12)
    assert got["rmse"] == pytest.approx(math.sqrt(sk.mean_squared_error(y, pred)), rel=1e-12)
    assert got["r2"] == pytest.approx(sk.r2_score(y, pred), rel=1e-12)
    constant = regression_metrics(np.ones(5), np.ones(5) * 2)
    assert constant["mae"] == constant["rmse"] == 1.0
    # R² of constant labels is undefined: sklearn says -inf (force_finite=False) or 0; no figure here, never an alarm
    assert math.isnan(constant["r2"]) and sk.r2_score(np.ones(5), np.ones(5) * 2, force_finite=False) == -math.inf
    assert regression_metrics(np.array([1.0, 2.0]), np.array([1.0, 2.0]))["r2"] == 1.0
    assert all(math.isnan(v) for v in regression_metrics(np.array([]), np.array([])).values())


def test_a_regressor_is_judged_by_its_predictions_and_errors(diabetes):
    X, y, Xtr, Xte, ytr, yte, model, schema = diabetes
    profile = profile_from_training(Xtr, model.predict(Xte), ytr, schema, model_name="diabetes", model_version="1",
                                    task="regression", test_labels=yte)
    assert profile.task == "regression" and math.isnan(profile.positive_rate)
    assert profile.metrics["mae"] == pytest.approx(sk.mean_absolute_error(yte, model.predict(Xte)), rel=1e-5)
    assert profile.metrics["r2"] == pytest.approx(sk.r2_score(yte, model.predict(Xte)), rel=1e-4)
    back = ReferenceProfile.from_json(profile.to_json())
    assert back.task == "regression" and back.metrics == profile.metrics

    pred = model.predict(X)
    snap = compute(_window(back, X, pred, y), POLICY, now=101.0)
    assert snap.task == "regression"
    assert snap.estimated_performance == {} and math.isnan(snap.prediction_positive_ratio)
    assert math.isnan(snap.label_positive_ratio)
    p32 = pred.astype(np.float32).astype(float)
    assert snap.performance["mae"] == pytest.approx(sk.mean_absolute_error(y, p32), rel=1e-5)
    assert snap.performance["rmse"] == pytest.approx(math.sqrt(sk.mean_squared_error(y, p32)), rel=1e-5)
    assert snap.performance["r2"] == pytest.approx(sk.r2_score(y, p32), rel=1e-5)
    assert set(snap.prediction_drift) == {"psi", "ks_statistic", "ks_pvalue", "drifted"}
    assert not snap.prediction_drift["drifted"]


def test_a_regressor_whose_predictions_shift_is_flagged_and_whose_errors_rise_is_critical(diabetes):
    X, y, Xtr, Xte, ytr, yte, model, schema = diabetes
    profile = profile_from_training(Xtr, model.predict(Xte), None, schema, model_name="diabetes", model_version="1",
                                    task="regression", test_labels=yte)
    shifted = model.predict(X) + 60  # a biased model: predictions drift and MAE rises
    snap = compute(_window(profile, X, shifted, y), POLICY, now=101.0)
    assert snap.prediction_drift["drifted"]
    assert snap.performance["mae"] > profile.metrics["mae"] * 1.2
    assert snap.health_status == 2
    assert {"mae", "r2"} <= set(task_performance_dropped("regression", snap.performance, profile.metrics, POLICY))


def test_performance_drop_rule_by_task():
    policy = Policy(performance_drop=0.05, performance_error_rise=0.2)
    ref = {"mae": 10.0, "rmse": 12.0, "r2": 0.5}
    assert task_performance_dropped("regression", {"mae": 11.9, "rmse": 14.3, "r2": 0.46}, ref, policy) == []
    assert task_performance_dropped("regression", {"mae": 12.1, "rmse": 12.0, "r2": 0.44}, ref, policy) == ["mae", "r2"]
    ref = {"accuracy": 0.9, "macro_f1": 0.88, "log_loss": 0.3}
    assert task_performance_dropped("multiclass", {"accuracy": 0.84, "macro_f1": 0.9, "log_loss": 0.37}, ref, policy) \
        == ["accuracy", "log_loss"]


def test_the_client_takes_a_regressors_values_and_refuses_them_for_a_binary_model(diabetes):
    X, y, Xtr, Xte, ytr, yte, model, schema = diabetes
    profile = profile_from_training(Xtr, model.predict(Xte), None, schema, model_name="d", model_version="1",
                                    task="regression")
    client = DriftClient(None, "d", "1", schema, profile.to_json(), strict=True)  # strict: problems raise
    assert client.task == "regression"
    client.log_label("a", 59.0)
    with pytest.raises(ValueError, match="finite"):
        client.log_label("a", float("nan"))
    binary_json = profile_from_training(Xtr, None, None, schema, model_name="d", model_version="1").to_json()
    binary = DriftClient(None, "d", "1", schema, binary_json, strict=True)
    binary.log_label("a", True)  # a binary label may be a bool
    with pytest.raises(ValueError, match="number"):
        client.log_label("a", True)  # a regression target may not
    with pytest.raises(ValueError, match="0 or 1"):
        binary.log_label("a", 59.0)
    lenient = DriftClient(None, "d", "1", schema, binary_json)  # the default: counted by reason, never raised
    lenient.log_label("a", 59.0)
    assert lenient.counters.invalid_counts == {"label": 1}


def test_float_labels_round_trip_and_0_1_labels_keep_their_format():
    batch = layout.LabelBatch(["a", "b"], np.array([1.0, 2.0]), np.array([59.5, 346.0], np.float32))
    fields = layout.encode_labels(batch)
    assert fields["dtype"] == b"f4"
    assert layout.decode_labels(fields).labels.tolist() == [59.5, 346.0]
    old = layout.encode_labels(layout.LabelBatch(["a"], np.array([1.0]), np.array([1], np.uint8)))
    assert "dtype" not in old and layout.decode_labels(old).labels.dtype == np.uint8
    fields["labels"] = np.array([np.nan, 1.0], "<f4").tobytes()
    with pytest.raises(layout.MalformedEntry, match="finite"):
        layout.decode_labels(fields)


# ---- multiclass ---------------------------------------------------------------------------------------------------
def test_multiclass_metrics_match_sklearn():
    rng = np.random.default_rng(4)
    y = rng.integers(0, 4, 600)
    probs = rng.dirichlet(np.ones(4), 600)
    probs[np.arange(600), y] += 0.5
    probs /= probs.sum(axis=1, keepdims=True)
    pred = probs.argmax(axis=1)
    got = multiclass_metrics(y, pred, probs)
    assert got["accuracy"] == pytest.approx(sk.accuracy_score(y, pred), rel=1e-12)
    assert got["macro_f1"] == pytest.approx(sk.f1_score(y, pred, average="macro"), rel=1e-12)
    assert got["log_loss"] == pytest.approx(sk.log_loss(y, probs, labels=range(4)), rel=1e-9)
    # a class never predicted (precision 0/0 -> 0, as sklearn's zero_division default)
    y2, p2 = np.array([0, 1, 2, 2]), np.array([0, 1, 1, 1])
    assert multiclass_metrics(y2, p2)["macro_f1"] == pytest.approx(sk.f1_score(y2, p2, average="macro", zero_division=0))
    # a probability of 0 for the true class: clipped, finite
    assert math.isfinite(multiclass_metrics(np.array([0]), np.array([1]), np.array([[0.0, 1.0]]))["log_loss"])


def test_a_multiclass_classifier_is_judged_by_its_predicted_classes(wine):
    X, y, Xtr, Xte, ytr, yte, model, schema = wine
    classes = ["class_0", "class_1", "class_2"]
    profile = profile_from_training(Xtr, model.predict_proba(Xte), ytr, schema, model_name="wine", model_version="1",
                                    task="multiclass", classes=classes, test_labels=yte)
    assert profile.metrics["accuracy"] == pytest.approx(sk.accuracy_score(yte, model.predict(Xte)))
    assert profile.metrics["log_loss"] == pytest.approx(sk.log_loss(yte, model.predict_proba(Xte)), rel=1e-6)
    assert len(profile.bins["score"].proportions) == 4  # one bin per class, then unseen
    client = DriftClient(None, "wine", "1", schema, profile.to_json())
    scores = encode_scores("multiclass", classes, model.predict_proba(X))
    probabilities = class_probabilities("multiclass", classes, model.predict_proba(X))
    np.testing.assert_array_equal(scores, model.predict(X))
    np.testing.assert_array_equal(encode_scores("multiclass", classes, [classes[k] for k in model.predict(X)]), scores)
    assert class_probabilities("multiclass", classes, [classes[k] for k in model.predict(X)]) is None
    with pytest.raises(ValueError, match="3 columns"):
        class_probabilities("multiclass", classes, np.ones((2, 4)))
    assert client.publisher.label_dtype == np.float32
    client.log_label("a", "class_9")  # not strict: counted, never raised into the caller
    assert client.counters.invalid_counts == {"label": 1}
    with pytest.raises(ValueError, match="class_9"):
        DriftClient(None, "wine", "1", schema, profile.to_json(), strict=True).log_label("a", "class_9")

    policy = Policy(min_window_samples=100, min_labelled_samples=50)
    snap = compute(_window(profile, X, scores, y, probabilities), policy, now=101.0)
    assert snap.performance["accuracy"] == pytest.approx(sk.accuracy_score(y, model.predict(X)))
    assert snap.performance["log_loss"] == pytest.approx(sk.log_loss(y, model.predict_proba(X)), rel=1e-5)
    assert "log_loss" not in compute(_window(profile, X, scores, y), policy, now=101.0).performance  # bare classes
    assert snap.performance["macro_f1"] == pytest.approx(sk.f1_score(y, model.predict(X), average="macro"))
    assert set(snap.prediction_drift) == {"psi", "chi2_statistic", "chi2_pvalue", "drifted"}
    assert snap.prediction_class_ratio["class_0"] == pytest.approx(np.mean(model.predict(X) == 0))
    assert snap.estimated_performance == {} and math.isnan(snap.prediction_positive_ratio)
    only_one = np.zeros(len(X))  # a model that now predicts class_0 for everything
    drifted = compute(_window(profile, X, only_one), Policy(min_window_samples=100), now=101.0)
    assert drifted.prediction_drift["drifted"] and drifted.health_status == 2


def test_old_profiles_are_binary():
    from tests.helpers import tiny_profile
    import json
    data = json.loads(tiny_profile().to_json())
    data.pop("task"), data.pop("classes")
    assert ReferenceProfile.from_json(json.dumps(data)).task == "binary"
    with pytest.raises(ValueError, match="task"):
        ReferenceProfile.from_json(json.dumps({**data, "task": "ranking"}))


# ---- the offline report -------------------------------------------------------------------------------------------
def test_the_offline_report_infers_regression_and_takes_multiclass_when_named(diabetes, wine):
    from drift_report.core import DriftReport
    from drift_report.errors import BadInput
    X, y, Xtr, Xte, ytr, yte, model, schema = diabetes
    frame = X.assign(target=y, prediction=model.predict(X))
    ref, cur = frame.iloc[::2], frame.iloc[1::2]
    policy = Policy(min_window_samples=100, min_labelled_samples=100)
    report = DriftReport.compare(ref, cur, score="prediction", label="target", policy=policy)
    assert report.snapshot.task == "regression" and report.snapshot.estimated_performance == {}
    p32 = cur.prediction.astype(np.float32)
    assert report.snapshot.performance["mae"] == pytest.approx(sk.mean_absolute_error(cur.target, p32), rel=1e-6)
    assert report.snapshot.performance["r2"] == pytest.approx(sk.r2_score(cur.target, p32), rel=1e-6)
    with pytest.raises(BadInput, match="0 or 1"):  # scores in [0, 1]: binary, and a continuous label is refused
        DriftReport.compare(ref.assign(p=ref.prediction / 400), cur.assign(p=cur.prediction / 400), score="p",
                            label="target")
    with pytest.raises(BadInput, match=r"\[0, 1\]"):
        DriftReport.compare(ref, cur, score="prediction", task="binary")

    W, c, Wtr, Wte, ctr, cte, classifier, _ = wine
    frame = W.assign(label=c, predicted=classifier.predict(W))
    ref, cur = frame.iloc[::2], frame.iloc[1::2]
    report = DriftReport.compare(ref, cur, score="predicted", label="label", task="multiclass",
                                 policy=Policy(min_window_samples=50, min_labelled_samples=50))
    assert report.snapshot.task == "multiclass" and "chi2_statistic" in report.snapshot.prediction_drift
    assert report.snapshot.performance["macro_f1"] == pytest.approx(sk.f1_score(cur.label, cur.predicted, average="macro"))
    with pytest.raises(BadInput, match="class indices"):
        DriftReport.compare(ref, cur.assign(predicted=7), score="predicted", label="label", task="multiclass",
                            classes=["a", "b", "c"])


def test_the_html_report_of_a_multiclass_model_shows_its_class_test_and_figures(wine):
    from drift_report.core import DriftReport
    W, c, Wtr, Wte, ctr, cte, classifier, _ = wine
    frame = W.assign(label=c, predicted=classifier.predict(W))
    report = DriftReport.compare(frame.iloc[::2], frame.iloc[1::2], score="predicted", label="label", task="multiclass",
                                 policy=Policy(min_window_samples=50, min_labelled_samples=50))
    page = report.to_html()
    assert "chi-square" in page and "macro_f1" in page and "roc_auc" not in page
