"""Publish any model's predictions and labels to Redis for the drift exporter: the `drift-monitor-client`
distribution (`pip install ./drift_client`; numpy and redis, pandas optional; docs/own-model.md).

    from drift_client import DriftClient, FeatureSpec, ModelSchema, profile_from_training

Everything the client needs lives in this package (the schema, the Redis layout, the reference profile); the
monitoring project imports them from here (`contracts.schema` and the like are the same modules under older names).
"""
from drift_client.client import DriftClient, check_schema, profile_from_training
from drift_client.publisher import Counters, PublisherConfig, SamplePublisher
from drift_client.reference_profile import ReferenceProfile
from drift_client.schema import FeatureSpec, ModelSchema

__all__ = ["DriftClient", "check_schema", "profile_from_training", "Counters", "PublisherConfig", "SamplePublisher",
           "ReferenceProfile", "FeatureSpec", "ModelSchema"]
