"""Publish any model's predictions and labels to Redis for the drift exporter (see docs/own-model.md).

    from drift_client import DriftClient, profile_from_training
"""
from drift_client.client import DriftClient, profile_from_training
from drift_client.publisher import Counters, PublisherConfig, SamplePublisher

__all__ = ["DriftClient", "profile_from_training", "Counters", "PublisherConfig", "SamplePublisher"]
