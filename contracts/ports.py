"""The stack's default ports, decided once: the service, the exporter, `make up`, Prometheus's targets and
the docker-compose file read (or are checked against) these. Each moves with its environment variable.

    python -m contracts.ports service     # prints the port (for the Makefile)
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass, fields
from typing import Mapping

ENV = {"redis": "REDIS_PORT", "service": "SERVICE_PORT", "exporter": "EXPORTER_PORT", "locust": "LOCUST_PORT",
       "prometheus": "PROMETHEUS_PORT", "alertmanager": "ALERTMANAGER_PORT", "webhook": "WEBHOOK_PORT",
       "grafana": "GRAFANA_PORT", "retrain": "RETRAIN_PORT"}
LOOPBACK = "127.0.0.1"


@dataclass
class Ports:
    redis: int = 6379
    service: int = 8000  # not BentoML's 3000, which is Grafana's
    exporter: int = 8001
    locust: int = 8089
    prometheus: int = 9090
    alertmanager: int = 9093
    webhook: int = 5001
    grafana: int = 3000
    retrain: int = 5002  # the retraining webhook (scripts/retrain_webhook.py), when the stack runs it

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> "Ports":
        return cls(**{f.name: int(environ.get(ENV[f.name]) or f.default) for f in fields(cls)})


DEFAULT = Ports()

if __name__ == "__main__":
    print(getattr(Ports.from_env(), sys.argv[1]))
