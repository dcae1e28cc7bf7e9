"""The native stack as `make up` starts it (scripts.stack.Stack, on free ports): every socket any of its processes
listens on is bound to 127.0.0.1; Redis refuses unauthenticated commands, keeps an append-only file and a memory cap,
and the stack works through its password (Locust -> service -> Redis -> exporter)."""
from __future__ import annotations

import os
import re
import stat
import subprocess
from pathlib import Path

import pytest
import redis

from drift_client.redis_client import connect
from scripts import servers
from scripts.stack import Ports, Settings, Stack
from tests.helpers import http, series, wait_for

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """The stack as `make up` runs it (its logs through scripts.log_rotation), on free ports."""
    previous, servers.log_rotation = servers.log_rotation, servers.LogRotation()
    settings = Settings(window_hours=0.01, interval_seconds=2, scrape_seconds=2,
                        load=["--scenario", "baseline", "--rps", "20", "--label-delay", "1"])
    running = Stack(Ports.free(), tmp_path_factory.mktemp("secure-stack"), settings).start(with_load=True)
    yield running
    running.stop()
    servers.close_log_hub()
    servers.log_rotation = previous


def process_tree(leader: int) -> set[int]:
    """Every live process `leader` started: its session (start_new_session) and every descendant, also those in
    sessions of their own (BentoML starts its workers in new sessions)."""
    stats = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            stats[int(entry.name)] = (int(fields[1]), int(fields[3]))  # ppid, session id
    tree = {pid for pid, (_, sid) in stats.items() if sid == leader} | {leader}
    while True:
        children = {pid for pid, (ppid, _) in stats.items() if ppid in tree} - tree
        if not children:
            return tree
        tree |= children


def listening_sockets() -> list[tuple[str, str, set[int]]]:
    """(protocol, local address, owning PIDs) of every listening TCP and unconnected UDP socket on the machine (`ss -H -lntup`)."""
    out = subprocess.run(["ss", "-H", "-l", "-n", "-t", "-u", "-p"], capture_output=True, text=True, check=True).stdout
    sockets = []
    for line in out.splitlines():
        cols = line.split()
        pids = {int(p) for p in re.findall(r"pid=(\d+)", line)}
        sockets.append((cols[0], cols[4], pids))
    return sockets


def test_every_listening_socket_of_the_stack_is_on_loopback(stack):
    pids = {name: process_tree(server.proc.pid) for name, server in stack.parts.items()}
    assert set(pids) == {"redis", "service", "exporter", "webhook", "alertmanager", "prometheus", "locust"}
    owned = [(proto, addr, name) for proto, addr, owners in listening_sockets()
             for name, group in pids.items() if owners & group]
    assert owned, "no listening socket found for the stack's processes (is `ss -p` allowed to see them?)"
    exposed = [s for s in owned if not s[1].startswith("127.0.0.1:")]
    assert not exposed, f"listening beyond loopback: {exposed}"
    ports = {name: {int(addr.rsplit(':', 1)[1]) for _, addr, n in owned if n == name} for name in pids}
    for name, port in vars(stack.ports).items():
        if name in ports:
            assert port in ports[name], (name, port, ports[name])


def test_redis_refuses_unauthenticated_commands_and_keeps_its_data(stack):
    redis_srv = stack.parts["redis"]
    with pytest.raises(redis.AuthenticationError):
        redis.Redis.from_url(redis_srv.extra["url"]).keys("*")
    options = redis_srv.extra["options"]
    assert stat.S_IMODE(options.password_file.stat().st_mode) == 0o600
    assert options.password_file.read_text().strip() not in Path(f"/proc/{redis_srv.proc.pid}/cmdline").read_text()
    client = connect(redis_srv.extra["url"], options.password_file)
    config = {**client.config_get("appendonly"), **client.config_get("appendfsync"),
              **client.config_get("maxmemory-policy"), **client.config_get("maxmemory"), **client.config_get("bind")}
    assert config == {"appendonly": "yes", "appendfsync": "everysec", "maxmemory-policy": "noeviction",
                      "maxmemory": str(1 << 30), "bind": "127.0.0.1"}
    for part in ("service", "exporter"):  # the password reaches the clients as a file, not in their environment
        environ = Path(f"/proc/{stack.parts[part].proc.pid}/environ").read_bytes().decode(errors="replace")
        assert f"REDIS_PASSWORD_FILE={options.password_file}" in environ.split("\0"), part
        assert options.password_file.read_text().strip() not in environ, part


def test_the_stack_works_through_the_password(stack):
    service, exporter = stack.parts["service"], stack.parts["exporter"]

    def judged():
        status, body = http("GET", f"{exporter.url}/api/v1/monitoring/drift/latest")
        return status == 200 and body["models"] and body["models"][0]["predictions"] >= 200 and body["models"][0]
    model = wait_for(judged, timeout=120, interval=1)
    assert model["features"]["amount"].get("psi") is not None, "the window is judged"
    metrics = http("GET", f"{service.url}/metrics")[1]
    assert series(metrics, "ml_monitoring_redis_up") == 1
    assert series(metrics, "ml_monitoring_samples_total", outcome="dropped") == 0
    assert (series(metrics, "ml_monitoring_samples_total", outcome="published") or 0) >= 200


def test_logs_are_written_through_one_rotator(stack):
    rotators = [p for p in Path("/proc").iterdir() if p.name.isdigit() and _argv(p)[1:4] == [b"-m", b"scripts.log_rotation", b"--hub"]
                and int(p.name) == servers._log_hub.proc.pid]
    assert len(rotators) == 1, "one process rotates every server's log"
    open_files = {os.readlink(fd) for fd in (rotators[0] / "fd").iterdir() if fd.exists()}
    for name, part in stack.parts.items():
        assert str(part.log) in open_files, (name, part.log)
    assert stack.parts["service"].log.stat().st_size > 0 and stack.parts["redis"].log.stat().st_size > 0


def _argv(proc_dir: Path) -> list[bytes]:
    try:
        return (proc_dir / "cmdline").read_bytes().split(b"\0") + [b""] * 4
    except OSError:
        return [b""] * 4


def test_the_versions_api_token_is_generated_private_and_required(stack):
    token_file = stack.run_dir / "secrets" / "versions_api_token"
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600 and len(token_file.read_text().strip()) >= 32
    environ = Path(f"/proc/{stack.parts['service'].proc.pid}/environ").read_bytes().decode(errors="replace")
    assert f"VERSIONS_API_TOKEN_FILE={token_file}" in environ.split("\0")
    assert token_file.read_text().strip() not in environ, "the token reaches the service as a file"
    url = f"{stack.parts['service'].url}/api/v1/models/fraud_detector/versions"
    assert http("PUT", url, {"mode": "off"})[0] == 401
    status, body = http("PUT", url, {"mode": "off"}, headers={"Authorization": f"Bearer {token_file.read_text().strip()}"})
    assert status == 200 and body["mode"] == "off", body
