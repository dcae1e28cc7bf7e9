"""The models this project trains and serves: one spec per model, naming its domain (data, schema, label).

Adding a model is one entry here: `make train` trains it, the service serves it under
`/api/v1/models/{name}/...` and publishes its samples, the exporter monitors it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

import logins
import transactions
from bento_service.model_store import MODEL_NAME
from drift_client.schema import ModelSchema
from logins.schema import SCHEMA as LOGIN_SCHEMA
from transactions.schema import SCHEMA as FRAUD_SCHEMA

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class ModelSpec:
    name: str  # the BentoML model name, the `model_name` label of every series
    task: str  # what the score means (a label on the stored model)
    generate: Callable[..., "pd.DataFrame"]  # generate(n, seed=...) -> the features and the label
    schema: ModelSchema
    label: str

    @property
    def feature_names(self) -> tuple[str, ...]:
        return self.schema.names


FRAUD = ModelSpec(MODEL_NAME, "fraud", transactions.generate, FRAUD_SCHEMA, transactions.LABEL)
LOGIN_RISK = ModelSpec("login_risk", "account_takeover", logins.generate, LOGIN_SCHEMA, logins.LABEL)
MODELS: dict[str, ModelSpec] = {spec.name: spec for spec in (FRAUD, LOGIN_RISK)}
