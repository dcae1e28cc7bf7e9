"""The webhook receiver over real HTTP: JSON for machines, a page for people, the runbook it links to, bad input refused."""
from __future__ import annotations

from http.client import HTTPConnection
import urllib.request

import pytest

from scripts import servers
from tests.conftest import http

pytestmark = pytest.mark.integration

NOTIFICATION = {"status": "firing", "externalURL": "http://127.0.0.1:9093", "alerts": [{
    "status": "firing", "generatorURL": "http://127.0.0.1:9090/graph?g0.expr=x",
    "labels": {"alertname": "FeatureDrift", "severity": "warning", "model_name": "fraud_detector", "model_version": "v7", "feature": "amount"},
    "annotations": {"summary": "Feature amount of fraud_detector v7 has drifted.", "description": "amount: PSI 0.071, KS D 0.123",
                    "runbook_url": "http://127.0.0.1:5001/docs/runbook.md#featuredrift", "dashboard": "http://127.0.0.1:3000/d/ml-drift"}}]}


@pytest.fixture(scope="module")
def receiver(tmp_path_factory):
    with servers.start_webhook_receiver(tmp_path_factory.mktemp("webhook")) as server:
        yield server


def get(url: str) -> tuple[int, str, str]:
    with urllib.request.urlopen(url, timeout=10) as r:
        return r.status, r.headers["Content-Type"], r.read().decode(errors="replace")


def oversized_post(port: int) -> int:
    """Announce a 2 MiB body: refused from the headers, before it is read."""
    conn = HTTPConnection("127.0.0.1", port, timeout=10)
    conn.putrequest("POST", "/alerts")
    conn.putheader("Content-Length", str(2 << 20))
    conn.endheaders()
    status = conn.getresponse().status
    conn.close()
    return status


def test_notification_is_kept_as_json_and_shown_as_a_page(receiver):
    assert http("POST", f"{receiver.url}/alerts", NOTIFICATION) == (200, {"ok": True})
    assert http("GET", f"{receiver.url}/alerts")[1]["notifications"] == [NOTIFICATION]
    status, kind, page = get(f"{receiver.url}/")
    assert status == 200 and kind.startswith("text/html")
    assert 'data-feature="amount"' in page and "PSI 0.071, KS D 0.123" in page and ">firing<" in page
    assert '"received_at"' in receiver.extra["out"].read_text()


def test_runbook_page_has_the_anchor_the_alerts_link_to(receiver):
    status, kind, page = get(f"{receiver.url}/docs/runbook.md")
    assert status == 200 and kind.startswith("text/html") and '<h2 id="featuredrift">' in page
    assert get(f"{receiver.url}/docs/detection.png")[1] == "image/png"


def test_bad_bodies_are_4xx_and_other_files_are_not_served(receiver):
    assert http("POST", f"{receiver.url}/alerts", raw=b"{not json")[0] == 400
    assert http("POST", f"{receiver.url}/alerts", raw=b"\xff\xfe")[0] == 400
    assert oversized_post(receiver.port) == 413
    assert http("POST", f"{receiver.url}/alerts", {"alerts": [1, {"labels": 3}]})[0] == 200  # any JSON is kept, the page copes
    assert get(f"{receiver.url}/")[0] == 200
    assert http("GET", f"{receiver.url}/scripts/stack.py")[1] == {"notifications": []}
