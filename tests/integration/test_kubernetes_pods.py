"""deploy/kubernetes/'s containers run as local processes, the way the kubelet would start them: each Deployment's
args and env, its Secret references resolved (REDIS_URL's value; the password as a file under the volume's mount
path, with the volume's mode), against a real Redis that requires the password. The probes' paths answer on the
container port, the ServiceMonitors' path serves the metrics, both processes reach Redis through the password file,
and the exporter's probe stays up while Redis is down (the reason it does not probe /health).
"""
from __future__ import annotations

import re
import secrets
from pathlib import Path

import pytest
import yaml

from mixin import config
from mixin import kubernetes as k8s
from scripts import servers
from tests.helpers import http, wait_for

BASE = k8s.OUT


def manifest(kind: str, name: str) -> dict:
    for path in BASE.glob("*.yaml"):
        doc = yaml.safe_load(path.read_text())
        if doc["kind"] == kind and doc["metadata"]["name"] == name:
            return doc
    raise LookupError(f"{kind} {name}")


def as_process(deployment: dict, secret_data: dict[str, dict[str, str]], root: Path, port: int) -> tuple[list[str], dict]:
    """The container's argv and environment on this machine: files of Secret volumes written under `root` (mode as
    the volume says), paths into them rewritten, the listening address and port swapped for loopback and `port`."""
    spec = deployment["spec"]["template"]["spec"]
    (container,) = spec["containers"]
    volumes = {v["name"]: v for v in spec["volumes"]}
    mounts = {}
    for mount in container["volumeMounts"]:
        secret = volumes[mount["name"]].get("secret")
        if secret is None:
            continue
        local = root / mount["mountPath"].lstrip("/")
        local.mkdir(parents=True, exist_ok=True)
        mounts[mount["mountPath"]] = str(local)  # an optional Secret that is absent: an empty folder, as in a pod
        data = secret_data.get(secret["secretName"])
        if data is None:
            assert secret.get("optional"), f"Secret {secret['secretName']} is required"
            continue
        for item in secret.get("items") or [{"key": key, "path": key} for key in data]:
            path = servers.write_private(local / item["path"], data[item["key"]])
            path.chmod(secret.get("defaultMode", 0o644))
    env = {}
    for variable in container["env"]:
        if "valueFrom" in variable:
            ref = variable["valueFrom"]["secretKeyRef"]
            env[variable["name"]] = secret_data[ref["name"]][ref["key"]]
            continue
        value = variable["value"]
        for mount_path, local in mounts.items():
            if value.startswith(mount_path + "/"):
                value = local + value[len(mount_path):]
        env[variable["name"]] = value
    local_port = {str(p["containerPort"]): str(port) for p in container["ports"]}
    swap = {"0.0.0.0": "127.0.0.1", **local_port, "bentoml": str(servers.BIN / "bentoml"), "python": servers.PYTHON}
    args = [swap.get(arg, arg) for arg in container["args"]]
    env = {name: swap.get(value, value) if name in ("EXPORTER_HOST", "EXPORTER_PORT") else value for name, value in env.items()}
    return args, env


def gauge(text: str, name: str) -> float | None:
    """The first sample of `name`, with or without labels (the service's gauges carry multiprocess labels)."""
    found = re.search(rf"^{name}(?:{{[^}}]*}})? (\S+)", text, re.M)
    return float(found.group(1)) if found else None


def probes(deployment: dict) -> list[str]:
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    return [container[p]["httpGet"]["path"] for p in ("startupProbe", "livenessProbe", "readinessProbe") if p in container]


@pytest.fixture(scope="module")
def secured_redis(log_dir):
    password_file = servers.write_private(log_dir / "k8s-redis-password", secrets.token_urlsafe(24) + "\n")
    with servers.start_redis(log_dir, options=servers.RedisOptions(password_file=password_file)) as redis:
        yield redis, password_file.read_text().rstrip("\n")


def test_the_service_and_exporter_pods_run_as_their_manifests_say(log_dir, tmp_path, secured_redis):
    redis, password = secured_redis
    secret_data = {k8s.REDIS_SECRET: {"url": redis.extra["url"], "password": password}}
    selectors = config()["selectors"]
    started = []
    try:
        for job, monitored in ((selectors["service_job"], "ml_monitoring_redis_up"),
                               (selectors["exporter_job"], "ml_exporter_redis_up")):
            deployment = manifest("Deployment", job)
            port = servers.free_port()
            args, env = as_process(deployment, secret_data, tmp_path / job, port)
            if job == selectors["service_job"]:  # the models volume: the shared store, as the train Job leaves it
                env["BENTOML_HOME"] = str(servers.private_bentoml_home(tmp_path / "bentoml-home"))
            assert "@" not in env["REDIS_URL"] and Path(env["REDIS_PASSWORD_FILE"]).read_text() == password
            server = servers._start_http(job, port, args, log_dir, probes(deployment)[-1], env, timeout=120)
            started.append(server)
            for path in probes(deployment):
                assert http("GET", f"{server.url}{path}")[0] == 200, (job, path)
            (endpoint,) = manifest("ServiceMonitor", job)["spec"]["endpoints"]
            # reached Redis through the mounted password file (this Redis refuses unauthenticated clients)
            wait_for(lambda: gauge(http("GET", f"{server.url}{endpoint['path']}")[1], monitored) == 1, timeout=60)
        exporter = started[-1]
        redis.stop()
        wait_for(lambda: gauge(http("GET", f"{exporter.url}/metrics")[1], "ml_exporter_redis_up") == 0, timeout=60)
        for path in probes(manifest("Deployment", selectors["exporter_job"])):
            assert http("GET", f"{exporter.url}{path}")[0] == 200, path  # monitoring degrades; no restart
        assert http("GET", f"{exporter.url}/health")[0] == 503  # what a /health probe would have done
    finally:
        for server in started:
            server.stop()
