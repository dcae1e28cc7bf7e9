"""Seeded synthetic card transactions with a feature-dependent fraud label."""
from __future__ import annotations

from functools import cache

from typing import TYPE_CHECKING

import numpy as np

from transactions.scenarios import BASELINE, Scenario, get_scenario
from transactions.schema import BASE_FRAUD_RATE, FEATURE_NAMES, LABEL

if TYPE_CHECKING:  # imported where a frame is drawn: `import transactions` (the schema) stays light for the offline report
    import pandas as pd

_HOUR_WEIGHTS = np.array(
    [1, 0.6, 0.4, 0.3, 0.3, 0.5, 1.2, 2.5, 3.5, 4, 4.5, 5, 5.5, 5, 4.6, 4.4, 4.6, 5.2, 5.8, 5.5, 4.5, 3.5, 2.5, 1.6]
)
_DAY_WEIGHTS = np.array([1.0, 0.95, 0.95, 1.0, 1.2, 1.3, 1.05])


def _draw_features(n: int, rng: np.random.Generator, scenario: Scenario) -> dict[str, np.ndarray]:
    hour = rng.choice(24, size=n, p=_HOUR_WEIGHTS / _HOUR_WEIGHTS.sum())
    day = rng.choice(7, size=n, p=_DAY_WEIGHTS / _DAY_WEIGHTS.sum())
    is_online = (rng.random(n) < 0.35).astype(float)
    used_chip = np.where(is_online == 1, 0.0, (rng.random(n) < 0.8).astype(float))
    holder_median = np.exp(rng.normal(3.6, 0.5, n)) * scenario.amount_scale
    ratio = np.exp(rng.normal(0.0, 0.9, n) + 0.25 * is_online)
    amount = np.round(holder_median * ratio, 2)
    ratio = amount / holder_median
    txn_1h = rng.poisson(0.4, n).astype(float)
    columns = {
            "amount": amount,
            "hour_of_day": hour.astype(float),
            "day_of_week": day.astype(float),
            "distance_from_home_km": np.exp(rng.normal(1.6, 1.1, n)) * scenario.distance_scale,
            "distance_from_last_txn_km": np.exp(rng.normal(0.4, 1.3, n)),
            "ratio_to_median_purchase": ratio,
            "merchant_risk_score": rng.beta(2, 9, n),
            "txn_count_1h": txn_1h,
            "txn_count_24h": txn_1h + rng.poisson(3.0, n),
            "account_age_days": np.floor(rng.gamma(1.6, 420, n)),
            "is_online": is_online,
            "used_chip": used_chip,
        }
    return {name: columns[name] for name in FEATURE_NAMES}


def _training_pattern(x: dict[str, np.ndarray]) -> np.ndarray:
    """Fraud log-odds (up to the intercept) of the pattern the model is trained on."""
    night = ((x["hour_of_day"] <= 4) | (x["hour_of_day"] >= 23)).astype(float)
    far = np.log1p(x["distance_from_home_km"])
    big = np.log(x["ratio_to_median_purchase"])
    new_account = np.exp(-x["account_age_days"] / 60)
    return (
        1.3 * np.clip(big, -1, None)
        + 0.7 * big * x["is_online"]
        + 0.6 * np.clip(far - 2.5, 0, None)
        + 0.5 * np.log1p(x["distance_from_last_txn_km"])
        + 5.0 * x["merchant_risk_score"]
        + 0.6 * x["txn_count_1h"]
        + 0.08 * np.minimum(x["txn_count_24h"], 10)
        + 1.2 * new_account
        + 1.1 * night * (1 + x["is_online"])
        - 1.1 * x["used_chip"]
    )


def _card_testing_pattern(x: dict[str, np.ndarray]) -> np.ndarray:
    """A fraud ring testing stolen cards: small, rapid, chip-less purchases at risky merchants."""
    small = -np.log(x["ratio_to_median_purchase"])
    return (
        0.9 * np.clip(small, -1, None)
        + 0.8 * x["txn_count_1h"]
        + 3.0 * x["merchant_risk_score"]
        - 0.8 * x["used_chip"]
        + 0.4 * ((x["hour_of_day"] >= 9) & (x["hour_of_day"] <= 17))
    )


_PATTERNS = {"training": _training_pattern, "card_testing": _card_testing_pattern}
_NOISE_SD = 0.5
_PATTERN_GAIN = 1.2


def _log_odds(x: dict[str, np.ndarray], pattern: str, noise: np.ndarray) -> np.ndarray:
    return _PATTERN_GAIN * np.asarray(_PATTERNS[pattern](x)) + _NOISE_SD * noise


@cache
def _intercept(scenario: Scenario) -> float:
    """Intercept that makes the scenario's expected fraud rate equal its `fraud_rate`."""
    rng = np.random.default_rng(12345)
    x = _draw_features(200_000, rng, scenario)
    z = _log_odds(x, scenario.fraud_pattern, rng.standard_normal(200_000))
    lo, hi = -40.0, 40.0
    for _ in range(60):
        mid = (lo + hi) / 2
        rate = float(np.mean(1 / (1 + np.exp(-(z + mid)))))
        lo, hi = (mid, hi) if rate < scenario.fraud_rate else (lo, mid)
    return (lo + hi) / 2


def fraud_probability(x: dict[str, np.ndarray] | pd.DataFrame, scenario: Scenario, noise: np.ndarray) -> np.ndarray:
    """True probability of fraud for each row under `scenario`'s fraud pattern and rate."""
    natural = scenario.fraud_rate == BASE_FRAUD_RATE and scenario.fraud_pattern == "training"
    z = _log_odds(x, scenario.fraud_pattern, noise) + _intercept(BASELINE if natural else scenario)
    return 1 / (1 + np.exp(-z))


def generate_columns(n: int, *, seed: int, scenario: str | Scenario = "baseline", ramp: float = 1.0) -> dict[str, np.ndarray]:
    """`generate`'s columns as numpy arrays, without pandas (Locust draws its traffic with it: ~80 MB less, issue 24).

    >>> list(generate_columns(3, seed=1))[-1], generate_columns(3, seed=1)["amount"].dtype.name
    ('is_fraud', 'float64')
    """
    sc = get_scenario(scenario, ramp=ramp)
    rng = np.random.default_rng(seed)
    x = _draw_features(n, rng, sc)
    p = fraud_probability(x, sc, rng.standard_normal(n))
    x[LABEL] = (rng.random(n) < p).astype(int)
    return x


def generate(n: int, *, seed: int, scenario: str | Scenario = "baseline", ramp: float = 1.0) -> pd.DataFrame:
    """`n` transactions: the 12 feature columns and `is_fraud` (0/1).

    >>> df = generate(1000, seed=1)
    >>> list(df.columns)[-1], len(df)
    ('is_fraud', 1000)
    """
    import pandas as pd

    return pd.DataFrame(generate_columns(n, seed=seed, scenario=scenario, ramp=ramp))
