"""Locust's web form as a person sees it (headless Chromium) matches docs/traffic.md, and what it submits drives the run."""
from __future__ import annotations

import re
import time
import urllib.parse
import urllib.request

import pytest

from scripts import browser, servers
from tests.conftest import http

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def form(log_dir, service):
    with servers.start_locust(log_dir, service.url, [], autostart=False) as locust:
        yield locust


def inputs(dom: str) -> dict[str, str]:
    """name -> the <input>/<select> tag, from the rendered DOM."""
    return {m.group(2): m.group(0) for m in re.finditer(r'<(input|select)[^>]*\bname="(\w+)"[^>]*>', dom)}


OPEN_CUSTOM_PARAMETERS = ("[...document.querySelectorAll('.MuiAccordionSummary-root')]"
                          ".find(e => e.innerText.includes('Custom parameters')).click()")


def test_form_greys_out_the_user_count_and_offers_scenario_and_rps(form, tmp_path):
    with browser.Chromium((1400, 1400)) as chrome:
        chrome.open(form.url + "/")
        dom = chrome.html()
        chrome.evaluate(OPEN_CUSTOM_PARAMETERS)
        time.sleep(1)
        visible = chrome.text()
        chrome.screenshot(tmp_path / "locust_form.png")
    for label in ("Scenario", "Rps", "Drift after", "Ramp seconds"):  # what a person sees once the section is open
        assert label.lower() in visible.lower(), (label, visible)
    fields = inputs(dom)
    for name in ("userCount", "spawnRate"):  # what docs/traffic.md says: greyed out at 0, RateShape decides
        assert 'disabled=""' in fields[name] and 'value="0"' in fields[name], fields[name]
    assert "Custom parameters" in dom
    custom = {n for n in fields if n not in {"userCount", "spawnRate", "host", "runTime", "profile"}}
    assert custom == {"scenario", "rps", "driftAfter", "rampSeconds", "model", "loginScenario"}, custom
    assert '<option value="demo">demo</option>' in dom and 'value="10"' in fields["rps"]


def test_what_the_form_submits_sets_scenario_and_rate(form, service):
    body = urllib.parse.urlencode({"user_count": "0", "spawn_rate": "0", "host": service.url,
                                   "scenario": "covariate", "rps": "30", "drift_after": "60", "ramp_seconds": "300"}).encode()
    request = urllib.request.Request(f"{form.url}/swarm", data=body, method="POST")
    with urllib.request.urlopen(request, timeout=10) as r:
        answer = r.read().decode()
        assert r.status == 200 and '"success": true' in answer.replace('":true', '": true'), answer
    deadline, names, users = time.monotonic() + 30, set(), 0
    while time.monotonic() < deadline and not ("predict [covariate]" in names and users == 3):
        time.sleep(1)
        stats = http("GET", f"{form.url}/stats/requests")[1]
        names, users = {s["name"] for s in stats["stats"]}, stats["user_count"]
    assert "predict [covariate]" in names and users == 3, (names, users)  # ceil(30 / 10) paced users
    http("GET", f"{form.url}/stop")
