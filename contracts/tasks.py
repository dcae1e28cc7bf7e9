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

from contracts import metric_names as names

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


TASK = {
    BINARY: Task(BINARY, names.PERFORMANCE_METRICS, frozenset(), True, True),
    REGRESSION: Task(REGRESSION, names.REGRESSION_METRICS, frozenset({"mae", "rmse"}), False, False),
    MULTICLASS: Task(MULTICLASS, names.MULTICLASS_METRICS, frozenset({"log_loss"}), False, False),
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
