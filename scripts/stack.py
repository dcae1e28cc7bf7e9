"""The whole stack, natively: redis-server, `bentoml serve`, the exporter, Prometheus, Alertmanager,
a webhook receiver, Locust running the spec's demo, and grafana-server if it is installed.

    python -m scripts.stack up      # `make up`: ports as in contracts/ports.py, logs in .run/logs, PIDs in .run/pids
    python -m scripts.stack down    # `make down`: stop every process `up` started, by PID
    python -m scripts.stack alerts  # `make alerts`: the active alerts at Alertmanager, printed by amtool
    Ports: contracts/ports.py, moved with REDIS_PORT, SERVICE_PORT, EXPORTER_PORT, LOCUST_PORT, PROMETHEUS_PORT,
    ALERTMANAGER_PORT, WEBHOOK_PORT, GRAFANA_PORT; STACK_RUN_DIR moves .run/. `.env` fills in unset variables.

The demo judges drift over a short window (DEMO_WINDOW_HOURS=0.02: 72 s) every 5 s (DEMO_INTERVAL), and
Prometheus scrapes and evaluates every 5 s, so that the drift Locust injects after DEMO_DRIFT_AFTER=60 s
reaches Alertmanager within minutes; the production defaults (DRIFT_WINDOW_HOURS=1, MONITORING_INTERVAL=30,
15 s scrapes) are what `python -m exporter`, prometheus/prometheus.yml and docker compose use.
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

import contracts.ports
from contracts import model_versions
from scripts import servers
from scripts.links import Links, relink_rules
from scripts.render_alertmanager import load_dotenv, write as write_alertmanager_config

ROOT = servers.ROOT
RUN = ROOT / ".run"
DEBIAN_PACKAGES = {"redis-server": "redis-server", "prometheus": "prometheus", "prometheus-alertmanager": "prometheus-alertmanager"}


class Ports(contracts.ports.Ports):
    @classmethod
    def free(cls) -> "Ports":
        return cls(**{k: servers.free_port() for k in cls.__dataclass_fields__})


@dataclass
class Settings:
    window_hours: float = 0.02
    interval_seconds: float = 5.0
    scrape_seconds: float = 5.0
    load: list[str] = field(default_factory=lambda: ["--scenario", "demo", "--drift-after", "60", "--rps", "20",
                                                     "--model", "both"])
    exporter_env: dict = field(default_factory=dict)
    retrain: bool = False  # the retraining loop: webhook, Alertmanager route, automatic promotion
    retrain_cooldown_seconds: float = 600.0
    # PROMOTION_* for the exporter and the retraining webhook alike: one rule decides the comparison's series and the promotion
    promotion_env: dict = field(default_factory=dict)
    # `for:` of named alerts in this stack's copy of the generated rules (the expressions stay as generated), e.g.
    # {"ModelPerformanceDegraded": "1m"}: the retraining demo waits 1 minute instead of production's 5
    alert_for: dict = field(default_factory=dict)
    model_store: Path | None = None  # BENTOML_HOME holding the models (default the user's); retraining saves there

    @classmethod
    def demo(cls) -> "Settings":
        """`make up`'s settings; DEMO_WINDOW_HOURS, DEMO_INTERVAL, DEMO_RPS, DEMO_DRIFT_AFTER, DEMO_SCENARIO change them;
        DEMO_RETRAIN=1 runs the retraining loop (ModelPerformanceDegraded -> retraining -> shadow -> promotion) on the
        `demo_concept` scenario (the fraud pattern changes after DEMO_DRIFT_AFTER) with ModelPerformanceDegraded's
        `for:` at 1 minute, 40 rps and promotion on 1,000 labelled predictions with 30 frauds (the 72 s window holds
        about 2,200: the default 2,000 would leave no margin); DEMO_ALERT_FOR="Alert=duration,..." sets any alert's
        `for:` in the demo, PROMOTION_* the promotion rule."""
        env = os.environ
        retrain = env.get("DEMO_RETRAIN") == "1"
        promotion = {"PROMOTION_MIN_LABELLED": "1000", "PROMOTION_MIN_POSITIVES": "30"} if retrain else {}
        return cls(retrain=retrain,
                   promotion_env={**promotion, **{k: v for k, v in env.items() if k.startswith("PROMOTION_")}},
                   window_hours=float(env.get("DEMO_WINDOW_HOURS", cls.window_hours)),
                   interval_seconds=float(env.get("DEMO_INTERVAL", cls.interval_seconds)),
                   alert_for=parse_alert_for(env.get("DEMO_ALERT_FOR", "ModelPerformanceDegraded=1m" if retrain else "")),
                   load=["--scenario", env.get("DEMO_SCENARIO", "demo_concept" if retrain else "demo"),
                         "--drift-after", env.get("DEMO_DRIFT_AFTER", "60"),
                         "--rps", env.get("DEMO_RPS", "40" if retrain else "20"), "--model", env.get("DEMO_MODEL", "both")])


def parse_alert_for(text: str) -> dict[str, str]:
    """"ModelPerformanceDegraded=1m,FeatureDrift=30s" -> {alert: duration}.

    >>> parse_alert_for("ModelPerformanceDegraded=1m, FeatureDrift=30s")
    {'ModelPerformanceDegraded': '1m', 'FeatureDrift': '30s'}
    """
    pairs = [item.split("=", 1) for item in text.split(",") if item.strip()]
    if any(len(pair) != 2 or not pair[0].strip() or not pair[1].strip() for pair in pairs):
        raise ValueError(f"DEMO_ALERT_FOR: {text!r} is not Alert=duration,... (e.g. ModelPerformanceDegraded=1m)")
    return {name.strip(): duration.strip() for name, duration in pairs}


def prometheus_config(ports: Ports, settings: Settings, out: Path, links: Links | None = None) -> Path:
    """prometheus.yml with loopback targets and the demo's scrape interval, next to a copy of the rules whose
    links point at `links` (default: this stack's loopback addresses)."""
    config = yaml.safe_load((ROOT / "prometheus" / "prometheus.yml").read_text())
    interval = f"{settings.scrape_seconds:g}s"
    config["global"].update(scrape_interval=interval, evaluation_interval=interval)
    config["rule_files"] = [str(p) for p in write_rules(links or Links.for_ports(ports), out.parent / "rules", settings.alert_for)]
    config["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"] = [f"127.0.0.1:{ports.alertmanager}"]
    targets = {"fraud-service": ports.service, "drift-exporter": ports.exporter, "alertmanager": ports.alertmanager,
               "prometheus": ports.prometheus, "retrain-webhook": ports.retrain}
    if settings.retrain:
        config["scrape_configs"].append({"job_name": "retrain-webhook", "static_configs": [{"targets": []}]})
    for job in config["scrape_configs"]:
        job["static_configs"][0]["targets"] = [f"127.0.0.1:{targets[job['job_name']]}"]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(yaml.safe_dump(config, sort_keys=False))
    return out


def write_rules(links: Links, out_dir: Path, alert_for: dict[str, str] | None = None) -> list[Path]:
    """prometheus/rules/*.yml copied to `out_dir`, the alerts' runbook and dashboard links re-based on `links` and
    the alerts named in `alert_for` given that `for:` (ValueError naming an alert the rules do not have)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written, unknown = [], set(alert_for or {})
    for source in sorted((ROOT / "prometheus" / "rules").glob("*.yml")):
        rules = relink_rules(yaml.safe_load(source.read_text()), links)
        for rule in (r for group in rules["groups"] for r in group["rules"] if r.get("alert") in (alert_for or {})):
            rule["for"] = alert_for[rule["alert"]]
            unknown.discard(rule["alert"])
        (out_dir / source.name).write_text(yaml.safe_dump(rules, sort_keys=False, width=10_000, allow_unicode=True))
        written.append(out_dir / source.name)
    if unknown:
        raise ValueError(f"alert_for names alerts the rules do not have: {sorted(unknown)}")
    return written


def ensure_debian_packages() -> None:
    missing = [pkg for cmd, pkg in DEBIAN_PACKAGES.items() if shutil.which(cmd) is None]
    if not missing:
        return
    if os.geteuid() != 0:
        sys.exit(f"missing {' '.join(missing)}: run `sudo apt-get install --no-install-recommends {' '.join(missing)}`")
    print(f"installing {' '.join(missing)} from Debian's packages", flush=True)
    subprocess.run(["apt-get", "update", "-qq"], check=True)
    subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing], check=True,
                   env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})


class Stack:
    """Start the parts in dependency order; `stop()` stops them in reverse."""

    def __init__(self, ports: Ports, run_dir: Path, settings: Settings | None = None, links: Links | None = None) -> None:
        self.ports, self.run_dir, self.settings = ports, run_dir, settings or Settings()
        self.links = links or Links.for_ports(ports)
        self.logs = run_dir / "logs"
        self.parts: dict[str, servers.Server] = {}

    def start(self, with_load: bool = True) -> "Stack":
        p, s = self.ports, self.settings
        busy = [f"{name} {port}" for name, port in vars(p).items()
                if (name != "retrain" or s.retrain) and servers.port_in_use(port)]
        if busy:
            raise RuntimeError(f"ports already in use: {', '.join(busy)} (set e.g. REDIS_PORT=6380 to move one)")
        try:
            self._step("redis", lambda: servers.start_redis(self.logs, p.redis, self.redis_options()))
            redis_env = self.parts["redis"].extra["client_env"]  # REDIS_URL + REDIS_PASSWORD_FILE
            redis_url = redis_env["REDIS_URL"]
            service_env = {**redis_env, **self.versions_api_env()}
            self._step("service", lambda: servers.start_service(self.logs, redis_url, p.service, env=service_env,
                                                                 store=s.model_store))
            exporter_env = {"DRIFT_WINDOW_HOURS": str(s.window_hours), "MONITORING_INTERVAL": str(s.interval_seconds),
                            **redis_env, **s.promotion_env, **s.exporter_env}
            self._step("exporter", lambda: servers.start_exporter(self.logs, redis_url, p.exporter, env=exporter_env))
            self._step("webhook", lambda: servers.start_webhook_receiver(self.logs, p.webhook))
            if s.retrain:
                self._step("retrain", lambda: servers.start_retrain_webhook(
                    self.logs, redis_url, p.retrain, env={**redis_env, **self.retrain_env()}, args=["--auto-promote"]))
            am_config = write_alertmanager_config(self.run_dir / "alertmanager" / "alertmanager.yml", self.alertmanager_env())
            self._step("alertmanager", lambda: servers.start_alertmanager(self.logs, am_config, p.alertmanager,
                                                                           self.links.alertmanager))
            prom_config = prometheus_config(p, s, self.run_dir / "prometheus" / "prometheus.yml", self.links)
            self._step("prometheus", lambda: servers.start_prometheus(self.logs, prom_config, p.prometheus,
                                                                       ["--storage.tsdb.retention.time=7d"], self.links.prometheus))
            if with_load:
                self.start_load(s.load)
        except Exception:
            self.stop()
            raise
        return self

    def alertmanager_env(self) -> dict[str, str]:
        """What Alertmanager's config is rendered from: the notification sink and, with the loop on, the retraining route."""
        p = self.ports
        env = {**os.environ, "GRAFANA_URL": self.links.grafana, "WEBHOOK_URL": f"http://127.0.0.1:{p.webhook}/alerts"}
        if self.settings.retrain:
            env["RETRAIN_WEBHOOK_URL"] = f"http://127.0.0.1:{p.retrain}/alerts"
        else:
            env.pop("RETRAIN_WEBHOOK_URL", None)
        return env

    def retrain_env(self) -> dict[str, str]:
        """The retraining webhook's environment: the demo's window, notifications through Alertmanager, the model
        store the service reads (a retrained version must land where the service finds it)."""
        s = self.settings
        store = {"BENTOML_HOME": str(s.model_store)} if s.model_store else {}
        return {"ALERTMANAGER_URL": f"http://127.0.0.1:{self.ports.alertmanager}", "DRIFT_WINDOW_HOURS": str(s.window_hours),
                "RETRAIN_COOLDOWN_SECONDS": str(s.retrain_cooldown_seconds), "PROMOTE_INTERVAL": f"{s.interval_seconds:g}",
                **store, **{k: v for k, v in os.environ.items() if k.startswith(("RETRAIN_", "PROMOTION_"))},
                **s.promotion_env}

    def versions_api_env(self) -> dict[str, str]:
        """The versions API's bearer token: generated once (random, mode 0600) in run_dir/secrets/versions_api_token,
        named to the service by VERSIONS_API_TOKEN_FILE (contracts/model_versions.py)."""
        token = servers.ensure_secret(self.run_dir / "secrets" / "versions_api_token")
        return {model_versions.TOKEN_FILE_ENV: str(token)}

    def redis_options(self) -> servers.RedisOptions:
        """The stack's Redis: a password generated once (mode 0600, under run_dir/secrets), an append-only file
        fsynced every second in run_dir/redis (a Redis restart keeps the window), and a memory cap with noeviction
        (REDIS_MAXMEMORY, default 1gb as in docker compose)."""
        return servers.RedisOptions(password_file=servers.ensure_secret(self.run_dir / "secrets" / "redis_password"),
                                    appendonly=True, data_dir=self.run_dir / "redis",
                                    maxmemory=os.environ.get("REDIS_MAXMEMORY") or "1gb")

    def start_load(self, options: list[str]) -> servers.Server:
        self._step("locust", lambda: servers.start_locust(self.logs, self.parts["service"].url, options, self.ports.locust))
        return self.parts["locust"]

    def _step(self, name: str, start) -> None:
        print(f"  starting {name}", flush=True)
        self.parts[name] = start()

    def stop(self) -> None:
        for name in reversed(list(self.parts)):
            self.parts.pop(name).stop()

    def urls(self) -> dict[str, str]:
        p = self.ports
        return {"service (BentoML)": f"http://127.0.0.1:{p.service}", "exporter": f"http://127.0.0.1:{p.exporter}/metrics",
                "drift report": f"http://127.0.0.1:{p.exporter}/api/v1/monitoring/drift/latest",
                "Locust web UI": f"http://127.0.0.1:{p.locust}", "Prometheus alerts": f"http://127.0.0.1:{p.prometheus}/classic/alerts",
                "notifications": f"http://127.0.0.1:{p.webhook}/", "notifications (JSON)": f"http://127.0.0.1:{p.webhook}/alerts",
                "runbook": self.links.runbook, "Alertmanager (API only)": f"http://127.0.0.1:{p.alertmanager}  (`make alerts`)",
                **({"retraining (status)": f"http://127.0.0.1:{p.retrain}/status"} if self.settings.retrain else {})}


def run_dir() -> Path:
    """`.run/` (STACK_RUN_DIR moves it, e.g. to run a second stack on other ports next to the first)."""
    return Path(os.environ.get("STACK_RUN_DIR", RUN)).resolve()


def up() -> None:
    run = run_dir()
    if (run / "pids").exists():
        sys.exit(f"the stack looks up already ({run / 'pids'} exists): `make down` first")
    for key, value in load_dotenv(ROOT / ".env").items():  # .env fills in what the environment does not say
        os.environ.setdefault(key, value)
    ensure_debian_packages()
    servers.log_rotation = servers.LogRotation.from_env()  # .run/logs rotate by size (STACK_LOG_MAX_BYTES, STACK_LOG_BACKUPS)
    stack = Stack(Ports.from_env(), run, Settings.demo())
    stack.start()
    pids = {name: server.proc.pid for name, server in stack.parts.items()}
    grafana = start_grafana(stack)
    if grafana:
        pids["grafana"] = grafana
    (run / "pids").write_text(json.dumps(pids, indent=2))
    (run / "ports").write_text(json.dumps(vars(stack.ports), indent=2))
    print(f"\nThe stack is up (logs in {run / 'logs'}; `make down` stops it):")
    for name, url in {**stack.urls(), **({"Grafana": f"http://127.0.0.1:{stack.ports.grafana}"} if grafana else {})}.items():
        print(f"  {name:<26} {url}")
    print(f"  {'versions API token':<26} {run / 'secrets' / 'versions_api_token'}  (PUT /api/v1/models/<name>/versions)")
    s = stack.settings
    print(demo_story(s))


def demo_story(s: Settings) -> str:
    """What the demo will show, and when."""
    rps, after, scenario = (s.load[s.load.index(flag) + 1] for flag in ("--rps", "--drift-after", "--scenario"))
    window = f"The exporter judges a {s.window_hours * 3600:.0f} s window every {s.interval_seconds:g} s; "
    if s.retrain and scenario == "demo_concept":
        return (f"\nLocust runs the retraining demo at {rps} rps: baseline traffic, then concept drift (a new fraud pattern) "
                f"after {after} s. {window}ModelPerformanceDegraded fires, the retraining webhook trains a challenger that "
                "serves in shadow, the webhook promotes it once it wins (ModelPromoted on the notifications page) and the "
                "alert resolves: `make versions` shows the versions and the comparison.")
    return (f"\nLocust runs the demo ({scenario}) at {rps} rps: baseline traffic, then the drift after {after} s. {window}"
            "with the spec's drift FeatureDrift for `amount` fires in Prometheus and reaches the notifications page within "
            "about 4 minutes of start (`make alerts` lists it at Alertmanager).")


def start_grafana(stack: Stack) -> int | None:
    """grafana-server with our provisioning, if it is installed (no registry this project uses carries it)."""
    binary = shutil.which("grafana-server") or shutil.which("grafana")
    if binary is None:
        print("  grafana-server not installed: dashboards need `docker compose up` or a Grafana install")
        return None
    base = stack.run_dir / "grafana"
    prov = base / "provisioning"
    shutil.copytree(ROOT / "grafana" / "provisioning", prov, dirs_exist_ok=True)
    for path in prov.rglob("*.yml"):
        path.write_text(path.read_text().replace("http://prometheus:9090", f"http://127.0.0.1:{stack.ports.prometheus}")
                        .replace("/var/lib/grafana/dashboards", str(ROOT / "grafana" / "dashboards")))
    password = os.environ.get("GRAFANA_ADMIN_PASSWORD") or secrets.token_urlsafe(12)  # never admin/admin
    servers.write_private(base / "admin_password", password)  # no newline: the file is the password
    home = next((h for h in ("/usr/share/grafana", "/usr/local/share/grafana") if Path(h).exists()), "/usr/share/grafana")
    args = [binary, *(["server"] if binary.endswith("/grafana") else []), "--homepath", home,
            f"cfg:default.paths.provisioning={prov}", f"cfg:default.paths.data={base / 'data'}",
            f"cfg:default.paths.logs={stack.logs}", f"cfg:default.server.http_port={stack.ports.grafana}",
            "cfg:default.server.http_addr=127.0.0.1", "cfg:default.log.mode=console"]  # one log, rotated as the others
    env = {"GF_SECURITY_ADMIN_USER": os.environ.get("GRAFANA_ADMIN_USER", "admin"),
           "GF_SECURITY_ADMIN_PASSWORD": password}  # __FILE variables are read by Grafana's Docker image only (compose uses it)
    proc, _ = servers._spawn("grafana", args, stack.logs, env)
    try:
        servers.wait_http(f"http://127.0.0.1:{stack.ports.grafana}/api/health", timeout=60, proc=proc)
    except Exception as exc:
        print(f"  grafana-server did not start ({exc}); see {stack.logs / 'grafana.log'}")
        servers.Server("grafana", stack.ports.grafana, proc, stack.logs / "grafana.log").stop()
        return None
    print(f"  Grafana admin password in {base / 'admin_password'}")
    return proc.pid


def down() -> None:
    run = run_dir()
    pid_file = run / "pids"
    if not pid_file.exists():
        print(f"nothing to stop ({pid_file} not found)")
        return
    pids = json.loads(pid_file.read_text())
    for name, pid in reversed(list(pids.items())):
        try:
            os.killpg(pid, signal.SIGTERM)
            print(f"  stopping {name} ({pid})")
        except ProcessLookupError:
            continue
    deadline = time.monotonic() + 20
    for name, pid in pids.items():
        while time.monotonic() < deadline:
            try:
                os.killpg(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.2)
        else:
            try:
                os.killpg(pid, signal.SIGKILL)
                print(f"  {name} ({pid}) did not stop: killed")
            except ProcessLookupError:
                pass
    pid_file.unlink()
    ports_file = run / "ports"
    if ports_file.exists():
        ports = json.loads(ports_file.read_text())
        ports_file.unlink()
        time.sleep(0.5)
        busy = [f"{name} {port}" for name, port in ports.items() if servers.port_in_use(port)]
        if busy:
            print(f"  still listening (not ours?): {', '.join(busy)}")
    print("stopped")


def alertmanager_url() -> str:
    """The running stack's Alertmanager (from .run/ports), else ALERTMANAGER_PORT's or 9093 on loopback."""
    ports_file = run_dir() / "ports"
    port = json.loads(ports_file.read_text())["alertmanager"] if ports_file.exists() else Ports.from_env().alertmanager
    return f"http://127.0.0.1:{port}"


def alerts() -> None:
    """`make alerts`: the active alerts as Alertmanager holds them, printed by amtool (Debian's Alertmanager has no web UI)."""
    url = alertmanager_url()
    print(f"Active alerts at {url} (amtool alert query; `-o extended` shows labels and annotations):", flush=True)
    done = subprocess.run(["amtool", f"--alertmanager.url={url}", "alert", "query", *sys.argv[2:]])
    sys.exit(done.returncode)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["up", "down", "alerts"])
    parser.add_argument("amtool_args", nargs="*", help="alerts: more amtool arguments, e.g. -o extended")
    {"up": up, "down": down, "alerts": alerts}[parser.parse_known_args()[0].command]()


if __name__ == "__main__":
    main()
