"""Start real servers (redis-server, bentoml serve, the exporter, prometheus, alertmanager) on loopback ports: for tests, benchmarks and `make up`.

Each `start_*` returns a `Server`; use it as a context manager or call `stop()`.
Processes are stopped by PID; logs go to files under the given directory.
"""
from __future__ import annotations

import os
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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_in_use(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def wait_http(url: str, timeout: float = 60.0, proc: subprocess.Popen | None = None) -> None:
    """Wait until `url` answers 2xx; fail early if `proc` exits."""
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before {url} answered")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if 200 <= r.status < 300:
                    return
        except (urllib.error.URLError, ConnectionError, OSError) as exc:
            last = exc
        time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer within {timeout}s: {last}")


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


def _spawn(name: str, args: list[str], log_dir: Path, env: dict | None = None, cwd: Path = ROOT) -> tuple[subprocess.Popen, Path]:
    log_dir.mkdir(parents=True, exist_ok=True)
    log = log_dir / f"{name}.log"
    full_env = {**os.environ, **(env or {})}
    with open(log, "ab") as out:
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env=full_env, cwd=cwd, start_new_session=True)
    return proc, log


def _start_http(name: str, port: int, args: list[str], log_dir: Path, ready_path: str, env: dict | None = None,
                timeout: float = 60) -> Server:
    """Spawn a server and wait until `ready_path` answers 2xx; on failure stop it and show its log."""
    proc, log = _spawn(f"{name}-{port}", args, log_dir, env)
    server = Server(name, port, proc, log)
    try:
        wait_http(f"{server.url}{ready_path}", timeout=timeout, proc=proc)
    except Exception as exc:
        server.stop()
        raise RuntimeError(f"{name} did not start ({exc}):\n{log.read_text(errors='replace')[-3000:]}") from None
    return server


def _fresh_dir(path: Path) -> Path:
    shutil.rmtree(path, ignore_errors=True)
    return path


def start_redis(log_dir: Path, port: int | None = None) -> Server:
    port = port or free_port()
    args = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no"]
    proc, log = _spawn(f"redis-{port}", args, log_dir)
    wait_port(port, proc=proc)
    server = Server("redis", port, proc, log)
    server.extra["url"] = f"redis://127.0.0.1:{port}/0"
    return server


def private_bentoml_home(path: Path, store: Path = DEFAULT_BENTOML_HOME) -> Path:
    """A BENTOML_HOME of its own (so its Prometheus multiprocess dir is private) sharing the model store."""
    path.mkdir(parents=True, exist_ok=True)
    link = path / "models"
    if not link.exists():
        (store / "models").mkdir(parents=True, exist_ok=True)
        link.symlink_to(store / "models")
    return path


def start_service(log_dir: Path, redis_url: str, port: int | None = None, env: dict | None = None) -> Server:
    """`bentoml serve` from the repository root, as a user runs it."""
    port = port or free_port()
    home = private_bentoml_home(log_dir / f"bentoml-home-{port}")
    full_env = {"REDIS_URL": redis_url, "BENTOML_HOME": str(home), "BENTOML_DO_NOT_TRACK": "True", **(env or {})}
    args = [str(BIN / "bentoml"), "serve", "--port", str(port), "--host", "127.0.0.1"]
    return _start_http("service", port, args, log_dir, "/readyz", full_env, timeout=120)


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
