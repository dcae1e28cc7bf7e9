"""Start real servers (redis-server, bentoml serve, the exporter, prometheus, alertmanager) on loopback ports: for tests, benchmarks and `make up`.

Each `start_*` returns a `Server`; use it as a context manager or call `stop()`.
Processes are stopped by PID; logs go to files under the given directory.
"""
from __future__ import annotations

import itertools
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
BIN = Path(PYTHON).parent
DEFAULT_BENTOML_HOME = Path(os.environ.get("BENTOML_HOME", Path.home() / "bentoml"))


def _ephemeral_ports() -> range:
    """The kernel's range for connections' source ports (net.ipv4.ip_local_port_range)."""
    try:
        low, high = map(int, Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
    except (OSError, ValueError):
        low, high = 32768, 60999  # Linux's default
    return range(low, high + 1)


def _port_pool() -> range:
    """This process's share of the loopback ports below the ephemeral range (a pytest-xdist worker gets its own slice).

    A port from bind(("127.0.0.1", 0)) is an ephemeral one: until our server binds it, any outgoing connection (a
    Prometheus scrape, a Redis client, Locust's users) may take it as its source port, and the server then fails with
    "Address already in use" (Locust's web UI died so, its load running on, in a CI run). Below the range, no
    connection takes it.
    """
    low, high = 15000, _ephemeral_ports().start
    if high - low < 1000:
        return range(0)  # an unusual kernel setting: fall back to the kernel's choice
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    workers = max(1, int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")))
    index = int(worker[2:]) % workers if worker[2:].isdigit() else 0
    share = (high - low) // workers
    return range(low + index * share, low + (index + 1) * share)


_POOL = _port_pool()
_pool_order = itertools.count(secrets.randbelow(len(_POOL)) if _POOL else 0)  # a random start: runs differ


def free_port() -> int:
    """A loopback port that nothing holds now and that no outgoing connection will take (see _port_pool)."""
    for _ in range(len(_POOL)):
        port = _POOL[next(_pool_order) % len(_POOL)]
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_in_use(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def wait_http(url: str, timeout: float = 60.0, proc: subprocess.Popen | None = None, log: Path | None = None,
              log_from: int = 0) -> None:
    """Wait until `url` answers 2xx; fail early if `proc` exits or its `log` (from byte `log_from`) says its port is
    taken."""
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before {url} answered")
        if log is not None and _says_port_taken(log, log_from):
            # some servers (Locust's web UI) log the failed bind and run on without their port
            raise RuntimeError(f"its log says a port was already in use; {url} will not answer")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if 200 <= r.status < 300:
                    return
        except (urllib.error.URLError, ConnectionError, OSError) as exc:
            last = exc
        time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer within {timeout}s: {last}")


def _says_port_taken(log: Path, start: int) -> bool:
    try:
        with open(log, "rb") as f:
            f.seek(start if start <= os.fstat(f.fileno()).st_size else 0)  # a rotated log starts again
            return b"address already in use" in f.read().lower()
    except OSError:
        return False


def wait_port(port: int, timeout: float = 20.0, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before port {port} opened")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"port {port} did not open within {timeout}s")


@dataclass
class Server:
    name: str
    port: int
    proc: subprocess.Popen
    log: Path
    extra: dict = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self, timeout: float = 15.0) -> None:
        if self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)

    def kill(self) -> None:
        """Stop abruptly (SIGKILL), as a crash would."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(5)

    def __enter__(self) -> "Server":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


@dataclass(frozen=True)
class LogRotation:
    """Servers' output copied through scripts.log_rotation: at most `max_bytes` per file, `backups` old files."""

    max_bytes: int = 10 * 2**20
    backups: int = 3

    @classmethod
    def from_env(cls, environ=os.environ) -> "LogRotation":
        return cls(int(environ.get("STACK_LOG_MAX_BYTES") or cls.max_bytes), int(environ.get("STACK_LOG_BACKUPS") or cls.backups))


log_rotation: LogRotation | None = None  # `make up` sets it (scripts.stack); tests and benchmarks write plain files


class LogHub:
    """The one `scripts.log_rotation --hub` process that writes every server's log: each server's output is a pipe
    whose read end is handed to the hub over a Unix socket (one process for all logs, not one per server)."""

    def __init__(self, log_dir: Path) -> None:
        self.control, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            # its own session: `make down` stops the servers' groups; the hub ends when their output closes. Its own
            # output is only a line per log it cannot write.
            with open(log_dir / "log_rotation.log", "ab") as errors:
                self.proc = subprocess.Popen([PYTHON, "-m", "scripts.log_rotation", "--hub"], stdin=theirs.fileno(),
                                             cwd=ROOT, start_new_session=True, stdout=errors, stderr=errors)
        finally:
            theirs.close()

    def pipe_to(self, log: Path, rotation: LogRotation) -> int:
        """A pipe's write end (for a server's stdout and stderr) whose output the hub writes to `log`, rotated."""
        log.touch()  # there at once, as without rotation (a failed start shows it)
        read_end, write_end = os.pipe()
        try:
            spec = {"path": str(log), "max_bytes": rotation.max_bytes, "backups": rotation.backups}
            socket.send_fds(self.control, [json.dumps(spec).encode()], [read_end])
        except BaseException:
            os.close(write_end)
            raise
        finally:
            os.close(read_end)  # only the hub holds it now
        return write_end

    def close(self) -> None:
        """No more logs: the hub exits once the servers it copies have exited."""
        self.control.close()


_log_hub: LogHub | None = None


def log_hub(log_dir: Path) -> LogHub:
    """The hub (started with the first rotated log, its own errors in that log's folder)."""
    global _log_hub
    if _log_hub is None or _log_hub.proc.poll() is not None:
        _log_hub = LogHub(log_dir)
    return _log_hub


def close_log_hub() -> None:
    """Let the hub end with the servers already started (the process exiting does the same)."""
    global _log_hub
    if _log_hub is not None:
        _log_hub.close()
        _log_hub = None


def _spawn(name: str, args: list[str], log_dir: Path, env: dict | None = None, cwd: Path = ROOT) -> tuple[subprocess.Popen, Path]:
    log_dir.mkdir(parents=True, exist_ok=True)
    log = log_dir / f"{name}.log"
    full_env = {**os.environ, **(env or {})}
    # the repository's tooling (scripts/, loadgen/) is run from the checkout, not installed: its servers find it here
    full_env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), full_env.get("PYTHONPATH", "")) if p)
    if log_rotation is None:
        with open(log, "ab") as out:
            proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env=full_env, cwd=cwd, start_new_session=True)
        return proc, log
    out = log_hub(log_dir).pipe_to(log, log_rotation)
    try:
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env=full_env, cwd=cwd, start_new_session=True)
    finally:
        os.close(out)  # only the server holds the pipe now
    return proc, log


def _start_http(name: str, port: int, args: list[str], log_dir: Path, ready_path: str, env: dict | None = None,
                timeout: float = 60) -> Server:
    """Spawn a server and wait until `ready_path` answers 2xx; on failure stop it and show its log."""
    earlier_log = log_dir / f"{name}-{port}.log"  # `make up` appends to the last run's log
    log_from = earlier_log.stat().st_size if earlier_log.exists() else 0
    proc, log = _spawn(f"{name}-{port}", args, log_dir, env)
    server = Server(name, port, proc, log)
    try:
        wait_http(f"{server.url}{ready_path}", timeout=timeout, proc=proc, log=log, log_from=log_from)
    except Exception as exc:
        server.stop()
        raise RuntimeError(f"{name} did not start ({exc}):\n{log.read_text(errors='replace')[-3000:]}") from None
    return server


def _fresh_dir(path: Path) -> Path:
    shutil.rmtree(path, ignore_errors=True)
    return path


def write_private(path: Path, text: str) -> Path:
    """Write `text` to `path` readable by its owner only (mode 0600 from creation: never briefly world-readable)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    path.chmod(0o600)  # an existing file keeps its old mode through os.open
    return path


def ensure_secret(path: Path) -> Path:
    """A random secret in `path` (mode 0600, in a 0700 folder), generated once and kept across restarts."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.parent.chmod(0o700)
    if path.exists() and path.read_text().strip():
        path.chmod(0o600)
        return path
    return write_private(path, secrets.token_urlsafe(32) + "\n")


@dataclass(frozen=True)
class RedisOptions:
    """How a redis-server is run. Tests default to fast and open; `make up` asks for a password and durability."""

    password_file: Path | None = None  # requirepass, read from this file into a 0600 config file (not argv)
    appendonly: bool = False  # AOF, fsynced every second
    data_dir: Path | None = None  # where the AOF lives (kept across restarts on the same port)
    maxmemory: str | None = None  # with noeviction: a full Redis refuses writes instead of evicting a window

    def config(self, port: int, data_dir: Path) -> str:
        """redis.conf text: loopback only, persistence and memory as asked, the password last."""
        lines = [f"port {port}", "bind 127.0.0.1", "protected-mode yes", "daemonize no", 'save ""',
                 f"dir {_redis_quote(str(data_dir))}", f"appendonly {'yes' if self.appendonly else 'no'}",
                 "appendfsync everysec"]
        if self.maxmemory:
            lines += [f"maxmemory {self.maxmemory}", "maxmemory-policy noeviction"]
        if self.password_file:
            password = Path(self.password_file).read_text().rstrip("\r\n")
            lines.append(f"requirepass {_redis_quote(password)}")
        return "\n".join(lines) + "\n"


def _redis_quote(value: str) -> str:
    """A redis.conf argument in double quotes (Redis unescapes \\ and \\")."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def start_redis(log_dir: Path, port: int | None = None, options: RedisOptions = RedisOptions()) -> Server:
    """redis-server on loopback from a generated redis.conf (mode 0600: it may hold the password)."""
    port = port or free_port()
    data_dir = options.data_dir or (log_dir / f"redis-data-{port}")
    data_dir.mkdir(parents=True, exist_ok=True)
    conf = write_private(log_dir / f"redis-{port}.conf", options.config(port, data_dir))
    proc, log = _spawn(f"redis-{port}", ["redis-server", str(conf)], log_dir)
    wait_port(port, proc=proc)
    server = Server("redis", port, proc, log)
    server.extra.update(url=f"redis://127.0.0.1:{port}/0", options=options, conf=conf)
    server.extra["client_env"] = redis_client_env(server)
    return server


def redis_client_env(redis_server: Server) -> dict[str, str]:
    """REDIS_URL (and REDIS_PASSWORD_FILE when the server has a password) for a client of `redis_server`."""
    env = {"REDIS_URL": redis_server.extra["url"]}
    password_file = redis_server.extra["options"].password_file
    if password_file:
        env["REDIS_PASSWORD_FILE"] = str(password_file)
    return env


def restart_redis(server: Server) -> Server:
    """Start `server`'s Redis again on the same port, config and data (after a stop or a kill -9)."""
    return start_redis(server.log.parent, server.port, server.extra["options"])


def start_redis_cluster(log_dir: Path, nodes: int = 3, replicas: int = 0, node_timeout_ms: int | None = None) -> list[Server]:
    """A Redis Cluster of `nodes` masters on loopback, each with `replicas` replicas (`redis-cli --cluster create
    --cluster-replicas`); `node_timeout_ms` is cluster-node-timeout (how soon a dead master's replica is promoted).

    Stop each returned server (by PID) when done; the URL `redis+cluster://127.0.0.1:<first port>` reaches it.
    """
    started: list[Server] = []
    timeout = ["--cluster-node-timeout", str(node_timeout_ms)] if node_timeout_ms else []
    try:
        for _ in range(nodes * (1 + replicas)):
            port = free_port()
            work = _fresh_dir(log_dir / f"redis-cluster-{port}")
            work.mkdir(parents=True, exist_ok=True)
            args = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                    "--daemonize", "no", "--cluster-enabled", "yes", "--cluster-config-file", str(work / "nodes.conf"),
                    "--dir", str(work), "--cluster-port", str(free_port()), *timeout]  # the bus port: not port + 10000
            proc, log = _spawn(f"redis-cluster-{port}", args, log_dir)
            wait_port(port, proc=proc)
            started.append(Server("redis-cluster", port, proc, log))
        addresses = [f"127.0.0.1:{s.port}" for s in started]
        subprocess.run(["redis-cli", "--cluster", "create", *addresses, "--cluster-replicas", str(replicas), "--cluster-yes"],
                       check=True, capture_output=True, timeout=60)
        for server in started:
            _wait_cluster_ok(server.port)
        if replicas:
            _wait_replicas_synced(started[0].port, nodes * replicas)
    except BaseException:
        for server in started:
            server.stop()
        raise
    for server in started:
        server.extra["url"] = f"redis+cluster://127.0.0.1:{started[0].port}"
    return started


def cluster_master_of(port: int, key: str) -> int:
    """The port of the master that serves `key`'s slot, asked of the node on `port`."""
    from redis.crc import key_slot

    slot = key_slot(key.encode())
    out = subprocess.run(["redis-cli", "-p", str(port), "cluster", "nodes"], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        fields = line.split()
        if "master" not in fields[2] or "fail" in fields[2]:
            continue
        for span in fields[8:]:
            first, _, last = span.partition("-")
            if first.isdigit() and int(first) <= slot <= int(last or first):
                return int(fields[1].split(":")[1].split("@")[0])
    raise LookupError(f"no master serves slot {slot}")


def _wait_replicas_synced(port: int, expected: int, timeout: float = 60.0) -> None:
    """Every replica attached and in sync (master_link_status:up), so that a master can be failed over."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        out = subprocess.run(["redis-cli", "-p", str(port), "cluster", "nodes"], capture_output=True, text=True).stdout
        replica_ports = [int(l.split()[1].split(":")[1].split("@")[0]) for l in out.splitlines() if "slave" in l.split()[2]]
        synced = [p for p in replica_ports if "master_link_status:up" in subprocess.run(
            ["redis-cli", "-p", str(p), "info", "replication"], capture_output=True, text=True).stdout]
        if len(synced) >= expected:
            return
        time.sleep(0.3)
    raise RuntimeError(f"the Redis Cluster's {expected} replicas did not sync")


def _wait_cluster_ok(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        out = subprocess.run(["redis-cli", "-p", str(port), "cluster", "info"], capture_output=True, text=True).stdout
        if "cluster_state:ok" in out:
            return
        time.sleep(0.2)
    raise RuntimeError(f"the Redis Cluster on port {port} did not reach cluster_state:ok")


def private_bentoml_home(path: Path, store: Path = DEFAULT_BENTOML_HOME) -> Path:
    """A BENTOML_HOME of its own (so its Prometheus multiprocess dir is private) sharing the model store."""
    path.mkdir(parents=True, exist_ok=True)
    link = path / "models"
    if not link.exists():
        (store / "models").mkdir(parents=True, exist_ok=True)
        link.symlink_to(store / "models")
    return path


def start_service(log_dir: Path, redis_url: str, port: int | None = None, env: dict | None = None,
                  store: Path | None = None) -> Server:
    """`bentoml serve` from the repository root, as a user runs it, on the models of `store` (a BENTOML_HOME;
    default the user's)."""
    for attempt in range(3):
        chosen = port or free_port()
        home = private_bentoml_home(log_dir / f"bentoml-home-{chosen}", store or DEFAULT_BENTOML_HOME)
        full_env = {"REDIS_URL": redis_url, "BENTOML_HOME": str(home), "BENTOML_DO_NOT_TRACK": "True", **(env or {})}
        args = [str(BIN / "bentoml"), "serve", "--port", str(chosen), "--host", "127.0.0.1"]
        try:
            return _start_http("service", chosen, args, log_dir, "/readyz", full_env, timeout=120)
        except RuntimeError as exc:
            # something else may take our port before our listener binds it ("Address already in use"): another
            # free port settles it
            if port is not None or attempt == 2 or "already in use" not in str(exc).lower():
                raise
    raise AssertionError("unreachable")


def start_exporter(log_dir: Path, redis_url: str, port: int | None = None, env: dict | None = None) -> Server:
    """`python -m exporter` with the given configuration (e.g. DRIFT_WINDOW_HOURS, MONITORING_INTERVAL)."""
    port = port or free_port()
    full_env = {"REDIS_URL": redis_url, "EXPORTER_PORT": str(port), "EXPORTER_HOST": "127.0.0.1", **(env or {})}
    return _start_http("exporter", port, [PYTHON, "-m", "exporter"], log_dir, "/health", full_env)


def start_prometheus(log_dir: Path, config: Path, port: int | None = None, extra_args: list[str] | None = None,
                     external_url: str | None = None) -> Server:
    """Prometheus; its external URL (the alerts' generatorURL) defaults to the loopback address, not the host name."""
    port = port or free_port()
    data = _fresh_dir(log_dir / f"prometheus-data-{port}")
    args = ["prometheus", f"--config.file={config}", f"--storage.tsdb.path={data}",
            f"--web.listen-address=127.0.0.1:{port}", f"--web.external-url={external_url or f'http://127.0.0.1:{port}'}",
            "--rules.alert.resend-delay=1s", *(extra_args or [])]
    return _start_http("prometheus", port, args, log_dir, "/-/ready")


def start_alertmanager(log_dir: Path, config: Path, port: int | None = None, external_url: str | None = None) -> Server:
    """Alertmanager; its external URL (a notification's externalURL) defaults to the loopback address."""
    port = port or free_port()
    data = _fresh_dir(log_dir / f"alertmanager-data-{port}")
    args = ["prometheus-alertmanager", f"--config.file={config}", f"--storage.path={data}",
            f"--web.listen-address=127.0.0.1:{port}", f"--web.external-url={external_url or f'http://127.0.0.1:{port}'}",
            "--cluster.listen-address="]
    return _start_http("alertmanager", port, args, log_dir, "/-/ready")


def start_webhook_receiver(log_dir: Path, port: int | None = None) -> Server:
    """The notification sink (scripts/webhook_receiver.py); GET /alerts lists what Alertmanager sent."""
    port = port or free_port()
    out = log_dir / f"notifications-{port}.jsonl"
    args = [PYTHON, "-m", "scripts.webhook_receiver", "--port", str(port), "--out", str(out)]
    server = _start_http("webhook", port, args, log_dir, "/alerts", timeout=30)
    server.extra["out"] = out
    return server


def start_retrain_webhook(log_dir: Path, redis_url: str, port: int | None = None, env: dict | None = None,
                          args: list[str] | None = None) -> Server:
    """Alertmanager's retraining receiver (scripts/retrain_webhook.py): alerts start `python -m retrain`."""
    port = port or free_port()
    full_env = {"REDIS_URL": redis_url, "RETRAIN_LOG_DIR": str(log_dir), **(env or {})}
    command = [PYTHON, "-m", "scripts.retrain_webhook", "--port", str(port), *(args or [])]
    return _start_http("retrain-webhook", port, command, log_dir, "/status", env=full_env, timeout=30)


def start_locust(log_dir: Path, service_url: str, options: list[str], web_port: int | None = None,
                 autostart: bool = True) -> Server:
    """Locust with its web UI on `web_port`, starting the test at once (--autostart) or waiting for the form."""
    web_port = web_port or free_port()
    args = [str(BIN / "locust"), "-f", "loadgen/locustfile.py", "--host", service_url, "--web-host", "127.0.0.1",
            "--web-port", str(web_port), *(["--autostart"] if autostart else []), *options]
    return _start_http("locust", web_port, args, log_dir, "/")


def store_with_challenger(home: Path, rows: int = 6000, seed: int = 7) -> tuple[str, str]:
    """A BentoML home of its own (`home`) holding a copy of the store's fraud_detector and login_risk, plus a second
    fraud_detector version trained there on other data (rows, seed): (champion version, challenger version). The
    shared store is left as it was (its `latest` does not move). Serve it with BENTOML_HOME=home and
    MODEL_TAG=fraud_detector:<champion>."""
    home = Path(home)
    for name in ("fraud_detector", "login_risk"):
        shutil.copytree(DEFAULT_BENTOML_HOME / "models" / name, home / "models" / name, dirs_exist_ok=True)
    champion = (home / "models" / "fraud_detector" / "latest").read_text().strip()
    code = ("from bento_service.registry import FRAUD; from bento_service.train import train; "
            f"print('VERSION', train(FRAUD, {rows}, {seed}).tag.version)")
    done = subprocess.run([PYTHON, "-c", code], capture_output=True, text=True, timeout=600, check=True, cwd=ROOT,
                          env={**os.environ, "BENTOML_HOME": str(home), "BENTOML_DO_NOT_TRACK": "True"})
    challenger = next(line.split()[1] for line in done.stdout.splitlines() if line.startswith("VERSION "))
    return champion, challenger
