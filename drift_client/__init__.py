"""Publish any model's predictions and labels to Redis for the drift exporter: the `drift-monitor-client`
distribution (`pip install ./drift_client`; numpy and redis, pandas optional; docs/own-model.md).

    from drift_client import DriftClient, FeatureSpec, ModelSchema, profile_from_training

Everything the client needs lives in this package (the schema, the Redis layout, the reference profile); the
monitoring project imports them from here, by these names only (`drift_client.schema` and the like).
The names below are loaded when first used (PEP 562), so that importing `drift_client.schema` (as the judgement core
does) imports no Redis client.
"""
from __future__ import annotations

import importlib
from typing import Any

_WHERE = {"DriftClient": "client", "check_schema": "client", "profile_from_training": "client",
          "Counters": "publisher", "PublisherConfig": "publisher", "SamplePublisher": "publisher",
          "ReferenceProfile": "reference_profile", "FeatureSpec": "schema", "ModelSchema": "schema"}
__all__ = list(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'drift_client' has no attribute {name!r}")
    return getattr(importlib.import_module(f"drift_client.{_WHERE[name]}"), name)
