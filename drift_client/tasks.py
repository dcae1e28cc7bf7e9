"""What a model predicts (its task), declared once in its reference profile: what a prediction's score means, which
labels it takes, which performance figures exist for it and which way each of them gets worse.

- `binary` (the default; profiles written before tasks existed are binary): the score is the probability of the
  positive class in [0, 1], labels are 0 or 1. Threshold metrics, ROC AUC, the positive ratio and the performance
  estimate without labels (CBPE) exist for it alone.
- `regression`: the score is the predicted value (any finite number), labels are the true values. The prediction
  is judged as a numeric feature is (PSI over quantile bins, KS); performance is MAE, RMSE and R².
- `multiclass`: the score is the predicted class's index in the profile's `classes`, labels are class indices.
  The predictions are judged as a categorical feature is (PSI and chi-square on the predicted-class shares);
  performance is accuracy and macro F1, and log loss where the client sent class probabilities.

Anything a task does not support is an error naming the field, never a figure.

>>> task_of("regression").metrics
('mae', 'rmse', 'r2')
>>> task_of("ranking")
Traceback (most recent call last):
...
ValueError: task: must be one of binary, regression, multiclass, got 'ranking'
"""
from __future__ import annotations

from dataclasses import dataclass

# the `metric` label of ml_model_performance and ml_model_reference_performance by task (contracts.metric_names
# re-exports them under the same names)
PERFORMANCE_METRICS = ("accuracy", "precision", "recall", "f1", "roc_auc", "average_precision")
REGRESSION_METRICS = ("mae", "rmse", "r2")
MULTICLASS_METRICS = ("accuracy", "macro_f1", "log_loss")


BINARY, REGRESSION, MULTICLASS = "binary", "regression", "multiclass"
TASKS = (BINARY, REGRESSION, MULTICLASS)
MAX_CLASSES = 256  # a multiclass model's classes travel as float32 indices; more would not be monitorable anyway


@dataclass(frozen=True)
class Task:
    name: str
    metrics: tuple[str, ...]  # the realized performance figures, in display order
    lower_is_better: frozenset[str]  # the error metrics: they degrade upwards
    estimates: bool  # performance estimated without labels (CBPE: calibrated binary scores only)
    positive_ratio: bool  # prediction and label positive ratios exist
    headline: tuple[str, ...]  # of `metrics`, what a summary shows first (the Overview board's quality tile)


# Headlines: binary ROC AUC and average precision, not accuracy (a rare positive class puts accuracy at the base
# rate whatever the model; they are also the two figures estimated without labels); regression MAE (in the target's
# units) and R² (unitless); multiclass accuracy and macro F1 (log loss exists only where probabilities were logged).
TASK = {
    BINARY: Task(BINARY, PERFORMANCE_METRICS, frozenset(), True, True, ("roc_auc", "average_precision")),
    REGRESSION: Task(REGRESSION, REGRESSION_METRICS, frozenset({"mae", "rmse"}), False, False, ("mae", "r2")),
    MULTICLASS: Task(MULTICLASS, MULTICLASS_METRICS, frozenset({"log_loss"}), False, False, ("accuracy", "macro_f1")),
}


def task_of(name: str) -> Task:
    """The task named `name`; a ValueError naming the field for anything else."""
    if name not in TASK:
        raise ValueError(f"task: must be one of {', '.join(TASKS)}, got {name!r}")
    return TASK[name]


def check_classes(task: str, classes: list[str] | tuple[str, ...]) -> None:
    """A multiclass model needs its class names (2 to MAX_CLASSES, unique); other tasks take none."""
    if task == MULTICLASS:
        if not 2 <= len(classes) <= MAX_CLASSES:
            raise ValueError(f"classes: a multiclass model needs 2 to {MAX_CLASSES} class names, got {len(classes)}")
        if len(set(classes)) != len(classes):
            raise ValueError("classes: class names must be unique")
    elif classes:
        raise ValueError(f"classes: only a multiclass model has classes, this one is {task}")
