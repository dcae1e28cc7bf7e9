"""Missing and out-of-range values, published through the publishing client's sample publisher (drift_client), judged by the real exporter,
raise FeatureMissing and FeatureOutOfRange in a real Prometheus running the generated rules; the other features
stay quiet."""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
import redis
import yaml

from drift_client.publisher import PublisherConfig, SamplePublisher
from drift_client import redis_layout as layout
from scripts import servers
from tests.helpers import Publisher, http, wait_for
from transactions import FEATURE_NAMES, generate

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
FAST = {"MONITORING_INTERVAL": "0.5", "DRIFT_WINDOW_HOURS": "1", "MIN_WINDOW_SAMPLES": "200"}


def prometheus_config(out: Path, exporter_port: int) -> Path:
    config = {"global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
              "rule_files": [str(ROOT / "prometheus" / "rules" / "alerts.yml")],
              "scrape_configs": [{"job_name": "drift-exporter", "static_configs": [{"targets": [f"127.0.0.1:{exporter_port}"]}]}]}
    out.write_text(yaml.safe_dump(config))
    return out


def alerts(prometheus) -> list[dict]:
    return http("GET", f"{prometheus.url}/api/v1/alerts")[1]["data"]["alerts"]


def test_missing_and_out_of_range_values_raise_their_alerts(log_dir, tmp_path):
    with servers.start_redis(log_dir) as redis_srv:
        url = redis_srv.extra["url"]
        profile = Publisher(redis.Redis.from_url(url), "quality").profile  # the trained model's profile, published
        publisher = SamplePublisher(PublisherConfig(url), layout.Keys(profile.model_name, "quality"), profile.to_json()).start()
        rows = generate(3000, seed=11)[list(FEATURE_NAMES)].to_numpy(np.float32).copy()
        rng = np.random.default_rng(11)
        rows[rng.random(3000) < 0.3, FEATURE_NAMES.index("distance_from_home_km")] = np.nan
        low = profile.ranges["account_age_days"][0]
        rows[rng.random(3000) < 0.1, FEATURE_NAMES.index("account_age_days")] = low - 1
        publisher.add_predictions([f"q{i}" for i in range(3000)], rows, rng.uniform(0, 0.2, 3000).astype(np.float32))
        publisher.flush()
        with servers.start_exporter(log_dir, url, env=FAST) as exporter:
            config = prometheus_config(tmp_path / "prometheus.yml", exporter.port)
            with servers.start_prometheus(log_dir, config) as prometheus:
                def firing() -> dict | None:
                    found = {(a["labels"]["alertname"], a["labels"].get("feature")) for a in alerts(prometheus)
                             if a["state"] == "firing"}
                    wanted = {("FeatureMissing", "distance_from_home_km"), ("FeatureOutOfRange", "account_age_days")}
                    return found if wanted <= found else None
                found = wait_for(firing, timeout=150, interval=2)
        publisher.stop()
    quality = {name for name, feature in found if name in ("FeatureMissing", "FeatureOutOfRange")}
    assert quality == {"FeatureMissing", "FeatureOutOfRange"}
    assert not {f for name, f in found if name in ("FeatureMissing", "FeatureOutOfRange")} - {
        "distance_from_home_km", "account_age_days"}
