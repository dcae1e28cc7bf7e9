"""`python -m exporter`: the drift exporter on EXPORTER_PORT (8001)."""
from __future__ import annotations

import logging
import signal
import sys
import threading

from prometheus_client import CollectorRegistry

from drift_client.redis_client import RedisPasswordFileError
from exporter.collector import DriftCollector
from exporter.comparison_collector import ComparisonCollector
from exporter.config import Config
from exporter.monitor import Monitor
from exporter.server import serve


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    config = Config.from_env()
    try:
        monitor = Monitor(config)
    except (RedisPasswordFileError, ValueError) as exc:  # a configuration error: one line, no traceback
        sys.exit(f"drift exporter: {exc}")
    registry = CollectorRegistry()
    registry.register(DriftCollector(monitor))
    registry.register(ComparisonCollector(monitor))
    stop = threading.Event()
    server = serve(monitor, registry)
    threading.Thread(target=server.serve_forever, name="http", daemon=True).start()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    logging.info("drift exporter %s on http://%s:%d (window %.4g h, every %.4g s, leases %.4g s)", config.replica_id,
                 config.host, config.port, config.policy.window_hours, config.policy.interval_seconds,
                 config.policy.lease_seconds)
    monitor.run_forever(stop)
    monitor.stop()  # hand this replica's versions over now, not after the lease TTL
    server.shutdown()


if __name__ == "__main__":
    main()
