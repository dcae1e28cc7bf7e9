import numpy as np
import pytest
from sklearn import metrics as sk

from drift.performance import classification_metrics, roc_auc


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_metrics_equal_sklearn(seed):
    rng = np.random.default_rng(seed)
    y = (rng.random(3000) < 0.05).astype(int)
    s = np.round(np.clip(rng.normal(0.2 + 0.3 * y, 0.2), 0, 1), 2)  # rounded: ties
    got = classification_metrics(y, s, 0.4)
    pred = s >= 0.4
    assert got["accuracy"] == pytest.approx(sk.accuracy_score(y, pred))
    assert got["precision"] == pytest.approx(sk.precision_score(y, pred))
    assert got["recall"] == pytest.approx(sk.recall_score(y, pred))
    assert got["f1"] == pytest.approx(sk.f1_score(y, pred))
    assert got["roc_auc"] == pytest.approx(sk.roc_auc_score(y, s))


def test_auc_is_undefined_with_one_class():
    assert np.isnan(roc_auc(np.zeros(5), np.arange(5)))


@pytest.mark.parametrize("seed", [0, 1])
def test_auc_of_presorted_scores_equals_sklearn_with_ties(seed):
    rng = np.random.default_rng(seed)
    y = (rng.random(5000) < 0.1).astype(int)
    s = np.round(rng.random(5000) * 0.5 + 0.3 * y, 1)
    order = np.argsort(s, kind="stable")
    got = classification_metrics(y[order], s[order], 0.4, sorted_by_score=True)
    assert got["roc_auc"] == pytest.approx(sk.roc_auc_score(y, s))
    assert got["f1"] == pytest.approx(sk.f1_score(y, s >= 0.4))


def test_auc_hand_computed():
    # positives 0.8 and 0.4; negatives 0.1, 0.4, 0.9: pairs won 2 + 1 + 0.5 (tie) + 0 + ... = 3.5 of 6
    assert roc_auc(np.array([1, 1, 0, 0, 0]), np.array([0.8, 0.4, 0.1, 0.4, 0.9])) == pytest.approx(3.5 / 6)
