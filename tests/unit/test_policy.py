"""The monitoring policy is decided in one file: contracts/policy.py. Everything else reads it or is generated from it."""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from contracts.policy import Policy, settings
from exporter.config import Config
from mixin.__main__ import outputs

ROOT = Path(__file__).resolve().parents[2]


def tracked_sources() -> list[Path]:
    """Tracked files that decide something: not documentation, tests' data, or the mixin's generated outputs."""
    generated = {p.relative_to(ROOT).as_posix() for p in outputs()}
    names = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    return [ROOT / n for n in names if (ROOT / n).is_file()
            and n not in generated and not n.endswith((".md", ".png", ".json")) and not n.startswith(("tests/", "prometheus/tests/"))]


def test_the_psi_threshold_default_is_written_in_one_source_file_only():
    default = re.escape(f"{Policy().psi_threshold:g}")
    holders = [p.relative_to(ROOT).as_posix() for p in tracked_sources()
               if re.search(rf"(?<![\d.]){default}(?![\d])", text := p.read_text(errors="replace")) and re.search("psi", text, re.I)]
    assert holders == ["contracts/policy.py"]


def test_environment_overrides_every_setting_and_empty_means_default():
    env = {name: "7" for name, _, _ in settings()}
    policy = Policy.from_env(env)
    assert all(float(getattr(policy, f)) == 7 for f in Policy.__dataclass_fields__)
    assert Policy.from_env({"PSI_THRESHOLD": ""}) == Policy()
    assert Config.from_env({"PSI_THRESHOLD": "0.4"}).policy.psi_threshold == 0.4


def test_the_former_ks_threshold_still_sets_the_family_wise_level_with_a_warning():
    with pytest.warns(DeprecationWarning, match="KS_THRESHOLD is deprecated: set FAMILY_WISE_LEVEL"):
        assert Policy.from_env({"KS_THRESHOLD": "0.01"}).family_wise_level == 0.01
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the new name: no warning, and it wins over the old one
        assert Policy.from_env({"FAMILY_WISE_LEVEL": "0.02", "KS_THRESHOLD": "0.01"}).family_wise_level == 0.02


PROBE = """
import json
from exporter.config import Config
from mixin import dashboards, rules
alerts = [r for g in rules.alerting_rules()["groups"] for r in g["rules"] if r["alert"] == "FeatureDrift"]
drift = dashboards.build()["ml-drift"]
steps = [s["value"] for s in drift["panels"][0]["fieldConfig"]["defaults"]["thresholds"]["steps"]]
print(json.dumps({"exporter": Config.from_env({}).policy.psi_threshold, "alerts": [a["expr"] for a in alerts],
                  "steps": steps, "description": drift["description"]}))
"""


def test_changing_the_policy_file_changes_the_exporter_the_alert_rules_and_the_dashboards(tmp_path):
    for package in ("contracts", "drift", "exporter", "mixin", "transactions"):
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    policy = tmp_path / "contracts" / "policy.py"
    text = policy.read_text()
    assert text.count("setting(0.25,") == 1
    policy.write_text(text.replace("setting(0.25,", "setting(0.3,"))
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=tmp_path, env={"PYTHONPATH": str(tmp_path)},
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    import json

    seen = json.loads(out.stdout)
    assert seen["exporter"] == 0.3
    assert any("ml_drift_psi >= 0.3 " in expr for expr in seen["alerts"]) and not any("0.25" in e for e in seen["alerts"])
    assert seen["steps"] == [None, 0.1, 0.3]
    assert ">= 0.3 significant" in seen["description"]

