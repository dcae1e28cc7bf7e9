"""Seeded synthetic logins with a feature-dependent account-takeover label.

The frame has the 8 feature columns in FEATURE_NAMES order and `is_takeover` (0/1):
categoricals are pandas `category` columns of strings whose categories are the training ones in schema order
(so `.cat.codes` is the category's index in the schema), followed by UNSEEN_COUNTRY for `country` when the
scenario sends logins from it; discrete and binary columns are int64, numeric ones float64.

The takeover log-odds mix several features non-linearly: a new device counts far more from a country where few
of the customers live, failed attempts count on a log scale, the IP risk above a knee, night logins more on a new
device, API logins and short sessions a little. Drawing is vectorised: a million logins take about 0.4 s on the 2-core machine.

>>> df = generate(1000, seed=1)
>>> list(df.columns) == [*FEATURE_NAMES, LABEL], len(df)
(True, 1000)
>>> df.country.cat.categories.tolist() == list(COUNTRIES), df.hour_of_day.dtype.name
(True, 'int64')
>>> generate(1000, seed=1, scenario="unseen_country").country.cat.categories[-1]
'VN'
"""
from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

import numpy as np

from logins.scenarios import BASELINE, UNSEEN_COUNTRY, Scenario, get_scenario
from logins.schema import (BASE_TAKEOVER_RATE, COUNTRIES, DEVICE_TYPES, FEATURE_NAMES, LABEL, LOGIN_CHANNELS,
                           MAX_FAILED_ATTEMPTS, MAX_SESSION_S)

if TYPE_CHECKING:  # imported where a frame is built: the service's supervisor imports `logins` (the schema) only
    import pandas as pd

# Share of training logins per country, in COUNTRIES order: a service whose customers are mostly in the US and
# western Europe.
_COUNTRY_SHARES = np.array([0.34, 0.12, 0.10, 0.08, 0.07, 0.05, 0.05, 0.05, 0.05, 0.04, 0.03, 0.02])
# Takeover log-odds of a login from each country (then UNSEEN_COUNTRY): higher where few customers live, so that
# a login from there is more often not the account holder.
_COUNTRY_RISK = np.array([0.0, 0.2, 0.1, 0.2, 0.1, 0.3, 0.3, 1.2, 1.0, 0.2, 0.3, 1.0, 1.5])
_DEVICE_SHARES = np.array([0.55, 0.38, 0.07])  # desktop, mobile, tablet
# P(channel | device): rows desktop, mobile, tablet; columns web, app, api.
_CHANNEL_GIVEN_DEVICE = np.array([[0.93, 0.00, 0.07], [0.33, 0.65, 0.02], [0.48, 0.50, 0.02]])
_NEW_DEVICE_RATE = np.array([0.08, 0.14, 0.10])  # per device type: phones are replaced more often
_HOUR_WEIGHTS = np.array(
    [0.8, 0.5, 0.3, 0.25, 0.25, 0.4, 1.0, 2.2, 3.4, 4.0, 4.2, 4.3, 4.5, 4.3, 4.1, 4.0, 4.1, 4.4, 4.8, 5.0, 4.7,
     3.9, 2.8, 1.6]
)
_WEB, _APP, _API = range(3)
_MOBILE = DEVICE_TYPES.index("mobile")
_TYPO_RATE = 0.2  # share of genuine logins with a few failed attempts in the last 24 h
_NOISE_SD = 0.5


def _choice(rng: np.random.Generator, shares: np.ndarray, n: int) -> np.ndarray:
    """n draws of an index with probabilities `shares` (inverse CDF: faster than Generator.choice)."""
    cdf = np.cumsum(shares / shares.sum())
    return np.minimum(np.searchsorted(cdf, rng.random(n), side="right"), len(shares) - 1)


def _device_shares(mobile_factor: float) -> np.ndarray:
    """Device shares with the mobile share multiplied by `mobile_factor` and the others rescaled to fit."""
    mobile = min(_DEVICE_SHARES[_MOBILE] * mobile_factor, 1.0)
    shares = _DEVICE_SHARES * (1 - mobile) / (1 - _DEVICE_SHARES[_MOBILE])
    shares[_MOBILE] = mobile
    return shares


def _draw_features(n: int, rng: np.random.Generator, sc: Scenario) -> dict[str, np.ndarray]:
    """The features as arrays, categoricals as codes (UNSEEN_COUNTRY is code len(COUNTRIES))."""
    country = _choice(rng, _COUNTRY_SHARES, n)
    country[rng.random(n) < sc.unseen_country_share] = len(COUNTRIES)
    device = _choice(rng, _device_shares(sc.mobile_factor), n)
    cdf = np.cumsum(_CHANNEL_GIVEN_DEVICE, axis=1)[device]
    u = rng.random(n)
    channel = (u >= cdf[:, 0]).astype(np.int64) + (u >= cdf[:, 1])
    new_device = (rng.random(n) < _NEW_DEVICE_RATE[device]).astype(np.int64)
    hour = _choice(rng, _HOUR_WEIGHTS, n)
    failed = np.where(rng.random(n) < _TYPO_RATE, rng.geometric(0.45, n), 0)
    ip_risk = np.where(channel == _API, rng.beta(2.5, 6.0, n), rng.beta(1.3, 9.0, n))
    log_session = rng.normal(np.log(600), 1.3, n) + 0.4 * (channel == _APP)
    x = {"country": country, "device_type": device, "login_channel": channel, "hour_of_day": hour,
         "failed_attempts_24h": failed, "new_device": new_device, "ip_risk_score": ip_risk,
         "session_length_s": np.exp(log_session)}
    _add_credential_stuffing(x, rng.random(n) < sc.stuffing_share, rng)
    x["failed_attempts_24h"] = np.minimum(x["failed_attempts_24h"], MAX_FAILED_ATTEMPTS).astype(np.int64)
    x["session_length_s"] = np.round(np.clip(x["session_length_s"], 1.0, MAX_SESSION_S), 1)
    return x


def _add_credential_stuffing(x: dict[str, np.ndarray], attack: np.ndarray, rng: np.random.Generator) -> None:
    """Turn the `attack` rows into a bot replaying leaked passwords: many failures, mostly over the API, round
    the clock, from risky IPs, on devices the account has not seen, in short sessions."""
    k = int(attack.sum())
    if k == 0:
        return
    x["failed_attempts_24h"][attack] = 1 + rng.poisson(9.0, k)
    x["login_channel"][attack] = np.where(rng.random(k) < 0.7, _API, _WEB)
    x["hour_of_day"][attack] = rng.integers(0, 24, k)
    x["ip_risk_score"][attack] = rng.beta(3.0, 5.0, k)
    x["new_device"][attack] = (rng.random(k) < 0.6).astype(np.int64)
    x["session_length_s"][attack] = np.exp(rng.normal(np.log(60), 1.0, k))


def _training_pattern(x: dict[str, np.ndarray]) -> np.ndarray:
    """Takeover log-odds (up to the intercept) of the pattern the model is trained on."""
    risk = _COUNTRY_RISK[x["country"]]
    new = x["new_device"]
    hour = x["hour_of_day"]
    night = ((hour <= 5) | (hour >= 23)).astype(float)
    failed = np.log1p(x["failed_attempts_24h"])
    ip = x["ip_risk_score"]
    return (
        1.8 * new
        + 1.5 * new * risk
        + 0.4 * risk
        + 1.1 * failed
        + 0.4 * new * failed
        + 7.0 * np.clip(ip - 0.35, 0, None)
        + 1.5 * ip
        + 0.7 * night * (1 + new)
        + 0.6 * (x["login_channel"] == _API)
        - 0.3 * np.clip(np.log(x["session_length_s"] / 600), -3, 3)
    )


def _credential_stuffing_pattern(x: dict[str, np.ndarray]) -> np.ndarray:
    """Takeovers by a credential-stuffing bot: the failed attempts and the API carry them, the device much less."""
    return (
        1.5 * np.log1p(x["failed_attempts_24h"])
        + 1.0 * (x["login_channel"] == _API)
        + 3.0 * x["ip_risk_score"]
        + 0.5 * x["new_device"]
        + 0.3 * _COUNTRY_RISK[x["country"]]
    )


_PATTERNS = {"training": _training_pattern, "credential_stuffing": _credential_stuffing_pattern}


def _log_odds(x: dict[str, np.ndarray], pattern: str, noise: np.ndarray) -> np.ndarray:
    return _PATTERNS[pattern](x) + _NOISE_SD * noise


@cache
def _intercept(scenario: Scenario) -> float:
    """Intercept that makes the scenario's expected takeover rate equal its `takeover_rate`."""
    rng = np.random.default_rng(12345)
    x = _draw_features(200_000, rng, scenario)
    z = _log_odds(x, scenario.takeover_pattern, rng.standard_normal(200_000))
    lo, hi = -40.0, 40.0
    for _ in range(60):
        mid = (lo + hi) / 2
        rate = float(np.mean(1 / (1 + np.exp(-(z + mid)))))
        lo, hi = (mid, hi) if rate < scenario.takeover_rate else (lo, mid)
    return (lo + hi) / 2


def _takeover_probability(x: dict[str, np.ndarray], sc: Scenario, noise: np.ndarray) -> np.ndarray:
    """True probability of a takeover per row. When the scenario keeps the base rate and the training pattern, the
    baseline intercept applies, so a covariate shift moves the takeover rate as it would in reality."""
    natural = sc.takeover_rate == BASE_TAKEOVER_RATE and sc.takeover_pattern == "training"
    z = _log_odds(x, sc.takeover_pattern, noise) + _intercept(BASELINE if natural else sc)
    return 1 / (1 + np.exp(-z))


def _frame(x: dict[str, np.ndarray], label: np.ndarray, with_unseen_country: bool) -> pd.DataFrame:
    import pandas as pd

    countries = [*COUNTRIES, UNSEEN_COUNTRY] if with_unseen_country else list(COUNTRIES)
    columns = dict(x)
    columns["country"] = pd.Categorical.from_codes(x["country"], countries)
    columns["device_type"] = pd.Categorical.from_codes(x["device_type"], list(DEVICE_TYPES))
    columns["login_channel"] = pd.Categorical.from_codes(x["login_channel"], list(LOGIN_CHANNELS))
    columns[LABEL] = label.astype(np.int64)
    return pd.DataFrame(columns, columns=[*FEATURE_NAMES, LABEL])


def generate(n: int, *, seed: int, scenario: str | Scenario = "baseline", ramp: float = 1.0) -> pd.DataFrame:
    """`n` logins: the 8 feature columns and `is_takeover` (0/1), drawn under `scenario` (ramped by `ramp`).

    >>> df = generate(5, seed=3)
    >>> sorted(df.dtypes.astype(str).unique())
    ['category', 'float64', 'int64']
    >>> generate(5, seed=3).equals(df)
    True
    """
    x, label, unseen = _draw(n, seed, scenario, ramp)
    return _frame(x, label, with_unseen_country=unseen)


def _draw(n: int, seed: int, scenario: str | Scenario, ramp: float) -> tuple[dict[str, np.ndarray], np.ndarray, bool]:
    sc = get_scenario(scenario, ramp=ramp)
    rng = np.random.default_rng(seed)
    x = _draw_features(n, rng, sc)
    p = _takeover_probability(x, sc, rng.standard_normal(n))
    return x, rng.random(n) < p, sc.unseen_country_share > 0


def generate_columns(n: int, *, seed: int, scenario: str | Scenario = "baseline", ramp: float = 1.0) -> dict[str, np.ndarray]:
    """`generate`'s columns as numpy arrays, without pandas (Locust draws its traffic with it: ~80 MB less, issue 24):
    the categoricals as arrays of their strings.

    >>> columns = generate_columns(5, seed=3)
    >>> frame = generate(5, seed=3)
    >>> all((columns[name] == frame[name].to_numpy()).all() for name in [*FEATURE_NAMES, LABEL])
    True
    """
    x, label, unseen = _draw(n, seed, scenario, ramp)
    columns = dict(x)
    columns["country"] = np.array([*COUNTRIES, UNSEEN_COUNTRY] if unseen else COUNTRIES, dtype=object)[x["country"]]
    columns["device_type"] = np.array(DEVICE_TYPES, dtype=object)[x["device_type"]]
    columns["login_channel"] = np.array(LOGIN_CHANNELS, dtype=object)[x["login_channel"]]
    columns[LABEL] = label.astype(np.int64)
    return {name: columns[name] for name in [*FEATURE_NAMES, LABEL]}
