"""The exporter's configuration: where Redis is, where to listen, the monitoring policy (contracts.policy) and the
monitoring config (which tests judge which feature: MONITORING_CONFIG, drift.monitoring_config).

Every default comes from contracts.policy / contracts.ports; the environment overrides them at run time.
"""
from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from typing import Mapping

from drift_client import redis_layout as layout
from contracts.policy import Policy
from contracts.ports import DEFAULT as PORTS, LOOPBACK
from drift.monitoring_config import MonitoringConfig


@dataclass(frozen=True)
class Config:
    redis_url: str = f"redis://{LOOPBACK}:{PORTS.redis}/0"
    redis_prefix: str = layout.DEFAULT_PREFIX
    host: str = "127.0.0.1"  # loopback unless EXPORTER_HOST opens it deliberately
    port: int = PORTS.exporter
    policy: Policy = field(default_factory=Policy)
    monitoring: MonitoringConfig = field(default_factory=MonitoringConfig)
    # This replica's name in the leases (exporter.leases): unique per process, so a restarted replica never takes
    # its predecessor's leases for its own (those expire after the lease TTL, or are released on a graceful stop).
    replica_id: str = field(default_factory=lambda: f"{socket.gethostname()}-{os.getpid()}")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> "Config":
        return cls(
            redis_url=environ.get("REDIS_URL") or cls.redis_url,
            redis_prefix=environ.get("REDIS_PREFIX") or cls.redis_prefix,
            host=environ.get("EXPORTER_HOST") or cls.host,
            port=int(environ.get("EXPORTER_PORT") or cls.port),
            policy=Policy.from_env(environ),
            monitoring=MonitoringConfig.load(environ.get("MONITORING_CONFIG")),
            **({"replica_id": environ["EXPORTER_REPLICA_ID"]} if environ.get("EXPORTER_REPLICA_ID") else {}),
        )
