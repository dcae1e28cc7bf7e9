"""`drift-monitor`: offline drift reports from the command line (docs/offline-reports.md).

    drift-monitor report --reference REF --current CUR [--schema FILE] [--save-schema FILE] [--json OUT] [--html OUT]
    drift-monitor report --reference REF --current DIR [--engine dask [--scheduler ADDRESS]] ...
    drift-monitor report --from-redis --model NAME [--version V] (--hours H | --start T --end T) [--redis-url URL]

Exit status: 0 no drift and every data-quality check passed, 1 drift found (a feature or the scores; data-quality
failures are listed too), 2 bad input or usage, 3 no drift but a data-quality check failed (a feature's missing or
out-of-range share above training's). Bad input is one line on stderr, never a traceback.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import sys
import time
from pathlib import Path
from typing import Sequence

import yaml

from drift_client import redis_layout as layout
from contracts.policy import Policy
from drift_client.schema import ModelSchema
from drift_report.errors import BadInput

NO_DRIFT, DRIFT, BAD_INPUT, QUALITY = 0, 1, 2, 3  # docs/design.md, "The offline report's exit status"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # usage errors: one line, status 2
        self.exit(BAD_INPUT, f"{self.prog}: error: {message} (see --help)\n")


def parser() -> argparse.ArgumentParser:
    top = _Parser(prog="drift-monitor", description="Offline drift reports with the drift exporter's own statistics.")
    sub = top.add_subparsers(dest="command", required=True, parser_class=_Parser)
    p = sub.add_parser("report", help="judge a current data set (or a live window) against a reference",
                       description="Exit status: 0 no drift and data quality ok, 1 drift found, 2 bad input or usage, "
                                   "3 no drift but a data-quality check failed (missing or out-of-range values).")
    files = p.add_argument_group("data sets (CSV or Parquet)")
    files.add_argument("--reference", type=Path, help="the reference data set (e.g. the training data)")
    files.add_argument("--current", type=Path, help="the data set to judge (a file, or a directory of Parquet files)")
    files.add_argument("--schema", type=Path, help="feature kinds (YAML or JSON, as --save-schema writes); inferred when absent")
    files.add_argument("--save-schema", type=Path, help="write the schema used (inferred or given) to edit it")
    files.add_argument("--score-column", help="the model's score (prediction drift)")
    files.add_argument("--label-column", help="the true label: 0 or 1, the true value (regression) or the class index "
                       "(multiclass) (performance; needs --score-column)")
    files.add_argument("--threshold", type=float, default=0.5, help="decision threshold on the score (default 0.5)")
    files.add_argument("--task", choices=("binary", "regression", "multiclass"),
                       help="what the model predicts (default: binary when every reference score is in [0, 1], "
                            "else regression; multiclass must be named: its score is the predicted class index)")
    files.add_argument("--classes", help="multiclass: the class names, comma-separated, in index order")
    scale = p.add_argument_group("a current data set too large for one process (a directory of Parquet files)")
    scale.add_argument("--engine", choices=("local", "dask"), default="local",
                       help="count the files in this process (local, default) or on Dask workers (dask)")
    scale.add_argument("--scheduler", help="a Dask scheduler's address (tcp://HOST:8786); default: a LocalCluster "
                       "of this machine's cores")
    live = p.add_argument_group("a model version's live window, as the exporter sees it")
    live.add_argument("--from-redis", action="store_true", help="read the window from Redis")
    live.add_argument("--model", help="model name")
    live.add_argument("--version", help="model version (needed when several publish)")
    live.add_argument("--hours", type=float, help="the last H hours")
    live.add_argument("--start", help="window start (ISO 8601 or Unix seconds), within the retention")
    live.add_argument("--end", help="window end (default now)")
    live.add_argument("--redis-url", default=os.environ.get("REDIS_URL"), help="default: $REDIS_URL")
    live.add_argument("--redis-password-file", default=os.environ.get("REDIS_PASSWORD_FILE") or None,
                      help="a file holding Redis's password (default: $REDIS_PASSWORD_FILE)")
    live.add_argument("--redis-prefix", default=os.environ.get("REDIS_PREFIX") or layout.DEFAULT_PREFIX)
    out = p.add_argument_group("output")
    out.add_argument("--json", type=Path, help="write the report as JSON ('-': stdout)")
    out.add_argument("--html", type=Path, help="write the report as one self-contained HTML page")
    out.add_argument("--monitoring-config", type=Path, default=os.environ.get("MONITORING_CONFIG") or None,
                     help="which tests judge which feature (default: $MONITORING_CONFIG, else by kind)")
    bar = out.add_mutually_exclusive_group()
    bar.add_argument("--progress", dest="progress", action="store_true", default=None, help="always show progress")
    bar.add_argument("--no-progress", dest="progress", action="store_false", help="never show progress")
    out.add_argument("--quiet", "-q", action="store_true", help="no summary on stdout")
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        status = run(args)
    except BadInput as exc:
        print(f"drift-monitor: error: {exc}", file=sys.stderr)
        status = BAD_INPUT
    except KeyboardInterrupt:
        status = 130
    except MemoryError:
        print("drift-monitor: error: out of memory (the inputs are too large for this machine)", file=sys.stderr)
        status = BAD_INPUT
    except Exception as exc:  # never a traceback for a user; DRIFT_MONITOR_DEBUG=1 shows it
        if os.environ.get("DRIFT_MONITOR_DEBUG"):
            raise
        print(f"drift-monitor: error: {type(exc).__name__}: {' '.join(str(exc).split())[:300]}", file=sys.stderr)
        status = BAD_INPUT
    sys.exit(status)


def run(args: argparse.Namespace) -> int:
    from drift.monitoring_config import ConfigError, MonitoringConfig
    try:
        config = MonitoringConfig.load(args.monitoring_config)
        config.import_plugins()
    except ConfigError as exc:
        raise BadInput(str(exc)) from None
    policy = Policy.from_env()
    report = _live(args, policy, config) if args.from_redis else _files(args, policy, config)
    if not report.judged:
        raise BadInput(f"current: {report.snapshot.predictions:,} usable rows; at least {policy.min_window_samples:,} "
                       "are needed to judge drift (MIN_WINDOW_SAMPLES)")
    if args.json:
        text = report.to_json()
        sys.stdout.write(text + "\n") if str(args.json) == "-" else _write(args.json, text)
    if args.html:
        _write(args.html, report.to_html())
    if not args.quiet and str(args.json) != "-":
        if getattr(args, "note", None):
            print(args.note)
        print(summary(report))
    return DRIFT if report.drift_found else QUALITY if quality_failures(report) else NO_DRIFT


def _files(args: argparse.Namespace, policy: Policy, config) -> "DriftReport":
    from drift_report import columns
    from drift_report.core import DriftReport, profile_of
    from drift_report.io import batches, read_frame
    if args.model or args.version or args.hours or args.start or args.end:
        raise BadInput("--model, --version, --hours, --start and --end go with --from-redis")
    if args.reference is None or args.current is None:
        raise BadInput("give --reference and --current (or --from-redis --model NAME --hours H)")
    if args.scheduler and args.engine != "dask":
        raise BadInput("--scheduler goes with --engine dask")
    schema = load_schema(args.schema) if args.schema else None
    # a directory (or --engine dask) is counted a file at a time and merged (drift_report/partitions.py)
    partitioned = args.current.is_dir() or args.engine == "dask"
    current = args.reference if partitioned else args.current  # each partition picks its own reader
    numbers_only = columns.applies(args.reference, current, schema)  # Parquet of numbers: no pandas
    if numbers_only:
        profile, rows = columns.profile(args.reference, schema, score=args.score_column, label=args.label_column,
                                        threshold=args.threshold, model_name=args.reference.stem, progress=args.progress,
                                        task=args.task, classes=_class_names(args))
    else:
        text = tuple(f.name for f in schema.features if f.is_categorical) if schema else ()
        reference = read_frame(args.reference, "reference", args.progress, text)
        profile = profile_of(reference, schema, score=args.score_column, label=args.label_column,
                             threshold=args.threshold, model_name=args.reference.stem, task=args.task,
                             classes=_class_names(args))
        rows = len(reference)
        del reference  # the current data is read a batch at a time: only the counts stay
    if schema is None and not args.save_schema:
        kinds = ", ".join(f"{f.name} {f.kind}" for f in profile.model_schema.features)
        args.note = f"schema inferred: {kinds} (--save-schema FILE writes it to edit)"
    if args.save_schema:
        save_schema(profile.model_schema, args.save_schema)
    sources = {"reference": str(args.reference), "current": str(args.current)}
    if partitioned:
        return DriftReport.from_tally(_partitioned(args, profile), policy, config=config, reference_rows=rows,
                                      sources=sources)
    if numbers_only:
        tally = columns.count(args.current, profile, score=args.score_column, label=args.label_column,
                              progress=args.progress)
        return DriftReport.from_tally(tally, policy, config=config, reference_rows=rows, sources=sources)
    categorical = tuple(f.name for f in profile.model_schema.features if f.is_categorical)
    current = batches(args.current, "current", args.progress, categorical)
    return DriftReport.from_profile(profile, current, score=args.score_column, label=args.label_column, config=config,
                                    policy=policy, reference_rows=rows, sources=sources)


def _class_names(args: argparse.Namespace) -> list[str] | None:
    if args.classes and args.task != "multiclass":
        raise BadInput("--classes goes with --task multiclass")
    return [c.strip() for c in args.classes.split(",")] if args.classes else None


def _partitioned(args: argparse.Namespace, profile) -> "Tally":
    from drift_report.partitions import count_in_turn, parquet_files
    files = parquet_files(args.current)
    if args.engine == "dask":
        from drift_report.dask_engine import count_on_dask  # only here: the local engine never imports dask
        return count_on_dask(files, profile, score=args.score_column, label=args.label_column,
                             scheduler=args.scheduler, progress=args.progress)
    return count_in_turn(files, profile, score=args.score_column, label=args.label_column, progress=args.progress)


def _live(args: argparse.Namespace, policy: Policy, config) -> "DriftReport":
    import redis

    from drift_client.redis_client import RedisPasswordFileError, connect, redact
    from drift_report.live import live_report
    if args.reference or args.current or args.schema or args.task or args.classes:
        raise BadInput("--reference, --current, --schema, --task and --classes do not go with --from-redis "
                       "(the model's profile declares its task)")
    if args.engine != "local" or args.scheduler:
        raise BadInput("--engine and --scheduler go with --reference and --current (files), not --from-redis")
    if not args.model:
        raise BadInput("--from-redis needs --model NAME")
    if not args.redis_url:
        raise BadInput("--from-redis needs --redis-url or REDIS_URL")
    start, end = window_bounds(args, policy, time.time())
    try:
        client = connect(args.redis_url, args.redis_password_file, socket_timeout=30, socket_connect_timeout=3)
        return live_report(client, args.model, args.version, start, end, policy, config, args.redis_prefix)
    except redis.RedisError as exc:
        raise BadInput(f"Redis at {redact(args.redis_url)}: {exc}") from None
    except RedisPasswordFileError as exc:
        raise BadInput(str(exc)) from None
    except ValueError as exc:
        if isinstance(exc, BadInput):
            raise
        raise BadInput(f"--redis-url {redact(args.redis_url)!r}: {exc}") from None


def window_bounds(args: argparse.Namespace, policy: Policy, now: float) -> tuple[float, float]:
    """[start, end] in Unix seconds from --hours or --start/--end, within the retention."""
    retention = policy.sample_retention_seconds
    if args.hours is not None:
        if args.start or args.end:
            raise BadInput("give either --hours or --start/--end")
        if not math.isfinite(args.hours) or args.hours <= 0:
            raise BadInput(f"--hours must be a positive number, got {args.hours:g}")
        if args.hours * 3600 > retention:
            raise BadInput(f"--hours must be at most {retention / 3600:g} (samples older than that are not kept)")
        return now - args.hours * 3600, now
    if not args.start:
        raise BadInput("--from-redis needs --hours H or --start T [--end T]")
    start = parse_time(args.start, "--start")
    end = parse_time(args.end, "--end") if args.end else now
    if not start < end:
        raise BadInput("--start must be before --end")
    if start < now - retention:
        raise BadInput(f"--start is older than the retention ({retention / 3600:g} h): those samples are gone")
    return start, min(end, now)


def parse_time(text: str, option: str) -> float:
    try:
        return float(text)
    except ValueError:
        pass
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise BadInput(f"{option} must be ISO 8601 (2026-01-31T14:00:00Z) or Unix seconds, got {text!r}") from None
    return (moment if moment.tzinfo else moment.astimezone()).timestamp()


def load_schema(path: Path) -> ModelSchema:
    try:
        data = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise BadInput(f"schema {path}: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise BadInput(f"schema {path}: not YAML or JSON: {' '.join(str(exc).split())[:200]}") from None
    items = data.get("features") if isinstance(data, dict) else data
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise BadInput(f"schema {path}: expected a list of features ({{name, kind, categories}}) under 'features'")
    try:
        return ModelSchema.from_list(items)
    except (KeyError, TypeError, ValueError) as exc:
        raise BadInput(f"schema {path}: {exc}") from None


def save_schema(schema: ModelSchema, path: Path) -> None:
    _write(path, "# feature kinds: numeric, discrete, binary, categorical (edit and pass with --schema)\n"
           + yaml.safe_dump({"features": schema.to_list()}, sort_keys=False, allow_unicode=True))


def quality_failures(report) -> dict[str, list[str]]:
    """Feature -> the data-quality checks it failed (missing, out_of_range)."""
    found = {name: [check for check, flagged in v.quality.items() if flagged] for name, v in report.snapshot.features.items()}
    return {name: checks for name, checks in found.items() if checks}


def _health_word(snap) -> str:
    """healthy, warning, critical, or why the window was not judged (too few rows, a refused schema)."""
    if snap.health_status is None:
        return f"not judged ({snap.not_judged_reason or 'unknown'})"
    return ["healthy", "warning", "critical"][min(snap.health_status, 2)]


def summary(report) -> str:
    snap = report.snapshot
    failed = quality_failures(report)
    lines = [f"{report.current_rows:,} current rows vs {report.reference_rows:,} reference rows; health "
             f"{_health_word(snap)}; task {snap.task}"]
    for name in sorted(snap.features, key=lambda f: (not snap.features[f].drifted, f not in failed, f)):
        v = snap.features[name]
        tests = ", ".join(f"{t} {_g(r.statistic)}" + (f" p={r.pvalue:.2g}" if r.pvalue is not None and not math.isnan(r.pvalue) else "")
                          for t, r in v.tests.items() if t != "psi")
        verdict = "DRIFT" if v.drifted else "QUALITY" if name in failed else "ok"
        lines.append(f"  {verdict:<7} {name:<28} {v.kind:<11} PSI {_g(v.psi)}  {tests}{_quality_text(v, failed.get(name, []))}")
    if snap.prediction_drift:
        p = snap.prediction_drift
        test = "ks" if "ks_statistic" in p else "chi2"  # a multiclass model's predicted classes: chi-square
        lines.append(f"  {'DRIFT' if p['drifted'] else 'ok':<7} {'(prediction) score':<28} {'':<11} PSI {_g(p['psi'])}  "
                     f"{test} {_g(p[test + '_statistic'])} p={p[test + '_pvalue']:.2g}")
    if snap.prediction_class_ratio:
        lines.append("  predicted classes: " + ", ".join(f"{c} {_g(v)}" for c, v in snap.prediction_class_ratio.items()))
    if snap.performance:
        lines.append(f"  performance ({snap.labels:,} labelled rows): " + ", ".join(
            f"{m} {_g(v)} (reference {_g(snap.reference_performance.get(m))})" for m, v in snap.performance.items()))
    if snap.estimated_performance:
        lines.append("  estimated performance (no labels): " + ", ".join(
            f"{m} {_g(v)}" for m, v in snap.estimated_performance.items()))
    verdict = "drift found" if report.drift_found else "no drift"
    if failed:
        verdict += "; data quality failed: " + ", ".join(f"{name} ({', '.join(checks)})" for name, checks in sorted(failed.items()))
    lines.append(verdict)
    return "\n".join(lines)


def _quality_text(v, failed: list[str]) -> str:
    """The failed checks' figures: '  missing 30.0%', '  out of range 4.1% below, 0.0% above'."""
    parts = []
    if "missing" in failed:
        parts.append(f"missing {_pct(v.missing_ratio)}")
    if "out_of_range" in failed:
        parts.append(f"out of range {_pct(v.below_range_ratio)} below, {_pct(v.above_range_ratio)} above")
    return ("  " + "; ".join(parts)) if parts else ""


def _pct(value) -> str:
    return "nan" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{100 * value:.1f}%"


def _g(value) -> str:
    return "nan" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.4g}"


def _write(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise BadInput(f"cannot write {path}: {exc.strerror or exc}") from None


if __name__ == "__main__":
    main()
