"""Redis with a password (as `make up` and docker compose run it): unauthenticated commands are refused, and the
service, the exporter and `drift-monitor report --from-redis` all work through REDIS_URL + REDIS_PASSWORD_FILE."""
from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import redis

from drift_client.redis_client import connect
from scripts import servers
from tests.helpers import http, series, wait_for
from tests.integration.test_exporter import fresh_report
from transactions import FEATURE_NAMES, generate

pytestmark = pytest.mark.integration
CLI = str(Path(sys.executable).parent / "drift-monitor")
N = 400  # above MIN_WINDOW_SAMPLES: the exporter judges the window


@pytest.fixture(scope="module")
def secured_redis(tmp_path_factory):
    run = tmp_path_factory.mktemp("secured")
    password_file = servers.ensure_secret(run / "secrets" / "redis_password")
    with servers.start_redis(run / "logs", options=servers.RedisOptions(password_file=password_file)) as srv:
        yield srv


def test_secrets_are_private_and_the_password_is_not_on_the_command_line(secured_redis):
    options = secured_redis.extra["options"]
    password = options.password_file.read_text().strip()
    assert len(password) >= 32
    for path in (options.password_file, secured_redis.extra["conf"]):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert stat.S_IMODE(options.password_file.parent.stat().st_mode) == 0o700
    assert password not in Path(f"/proc/{secured_redis.proc.pid}/cmdline").read_bytes().decode(errors="replace")
    assert servers.ensure_secret(options.password_file).read_text().strip() == password, "generated once, then kept"


def test_unauthenticated_and_wrong_password_commands_are_refused(secured_redis, tmp_path):
    with pytest.raises(redis.AuthenticationError):
        redis.Redis.from_url(secured_redis.extra["url"]).set("injected", "1")
    cli = subprocess.run(["redis-cli", "-p", str(secured_redis.port), "FLUSHALL"], capture_output=True, text=True, timeout=10)
    assert "NOAUTH" in cli.stdout + cli.stderr
    wrong = tmp_path / "wrong"
    wrong.write_text("not-the-password")
    with pytest.raises(redis.AuthenticationError):
        connect(secured_redis.extra["url"], wrong).ping()
    assert connect(secured_redis.extra["url"], secured_redis.extra["options"].password_file).ping()
    password = secured_redis.extra["options"].password_file.read_text().strip()
    assert connect(secured_redis.extra["url"].replace("redis://", f"redis://:{password}@"), environ={}).ping()


def test_service_publishes_and_exporter_judges_through_the_password(secured_redis, log_dir):
    env = secured_redis.extra["client_env"]
    assert set(env) == {"REDIS_URL", "REDIS_PASSWORD_FILE"} and "@" not in env["REDIS_URL"]
    df = generate(N, seed=5)
    with servers.start_service(log_dir, env["REDIS_URL"], env={**env, "SERVICE_ACCESS_LOG": "false"}) as svc, \
            servers.start_exporter(log_dir, env["REDIS_URL"], env={**env, "MONITORING_INTERVAL": "0.5"}) as exporter:
        _, info = http("GET", f"{svc.url}/api/v1/model")
        for start in range(0, N, 100):
            body = {"transactions": [{"transaction_id": f"pw-{start + i}", "features": {f: float(r[f]) for f in FEATURE_NAMES}}
                                     for i, (_, r) in enumerate(df.iloc[start:start + 100].iterrows())]}
            assert http("POST", f"{svc.url}/api/v1/predict_batch", body)[0] == 200
        result = fresh_report(exporter, info["version"], N)
        assert all("psi" in result["features"][f] for f in FEATURE_NAMES), "the window was judged"
        metrics = http("GET", f"{svc.url}/metrics")[1]
        assert series(metrics, "ml_monitoring_redis_up") == 1
        assert series(metrics, "ml_monitoring_samples_total", outcome="published") == N
        assert "\nml_exporter_redis_up 1.0\n" in http("GET", f"{exporter.url}/metrics")[1]

        done = subprocess.run([CLI, "report", "--from-redis", "--model", info["name"], "--version", info["version"],
                               "--hours", "1", "--redis-url", env["REDIS_URL"], "--quiet"],
                              capture_output=True, text=True, timeout=120, env={**os.environ, **env})
        assert done.returncode in (0, 1), done.stderr
        no_password = subprocess.run([CLI, "report", "--from-redis", "--model", info["name"], "--hours", "1",
                                      "--redis-url", env["REDIS_URL"]], capture_output=True, text=True, timeout=120,
                                     env={k: v for k, v in os.environ.items() if k != "REDIS_PASSWORD_FILE"})
        assert no_password.returncode == 2 and "authenticat" in no_password.stderr.lower(), no_password.stderr
        missing = subprocess.run([CLI, "report", "--from-redis", "--model", info["name"], "--hours", "1",
                                  "--redis-url", env["REDIS_URL"], "--redis-password-file", "/nonexistent/pw"],
                                 capture_output=True, text=True, timeout=120)
        assert missing.returncode == 2 and "/nonexistent/pw" in missing.stderr and "Traceback" not in missing.stderr
