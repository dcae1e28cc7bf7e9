"""The dashboards type-checked against Grafana's published schema (@grafana/schema, tsc --strict): every committed
panel passes, and a wrong option, field config, link or panel type fails naming the dashboard and the panel."""
from __future__ import annotations

import copy
import re
import subprocess
import sys
from pathlib import Path

import pytest

from grafana import typecheck

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def node_modules() -> Path:
    if not typecheck.npm_available():
        pytest.skip("node and npm are not installed (apt-get install nodejs npm; .ci/run does it)")
    return typecheck.install()


def panel(board: dict, title: str) -> dict:
    return next(p for p in board["panels"] if p["title"] == title)


def test_every_committed_dashboard_matches_grafanas_schema(node_modules):
    boards = typecheck.committed()
    assert set(boards) == {"ml-overview.json", "ml-drift.json", "ml-performance.json", "ml-comparison.json",
                           "ml-regression.json", "ml-multiclass.json"}
    for board in boards.values():  # every panel is typed with its own kind's Options, none left untyped
        text, _ = typecheck.typescript(board, node_modules)
        assert text.count("const panel") == len(board["panels"]) > 0
        assert "Record<string, unknown>, Record<string, unknown>" not in text
    result = subprocess.run([sys.executable, "-m", "grafana.typecheck"], cwd=ROOT, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "dashboards match @grafana/schema" in result.stdout


def wrong_dashboards() -> dict[str, tuple[dict, str, str]]:
    """File name -> (a committed dashboard with one mistake, the panel the failure must name, a word of the message)."""
    boards = typecheck.committed()
    cases = {}

    def case(name: str, source: str, title: str | None, label: str, word: str, mistake) -> None:
        board = copy.deepcopy(boards[source])
        if title:  # the failure names the panel by its id, whatever its place on the dashboard
            label = re.sub(r"^panel \d+", f"panel {panel(board, title)['id']}", label)
        mistake(panel(board, title) if title else board)
        cases[name] = (board, label, word)

    case("stat-colormode.json", "ml-overview.json", "Health status", 'panel 1 "Health status" (stat)', '"bright"',
         lambda p: p["options"].update(colorMode="bright"))
    case("timeseries-unknown-option.json", "ml-performance.json", "Exporter refresh duration",
         'panel 7 "Exporter refresh duration" (timeseries)', '"legendPosition"',
         lambda p: p["options"].update(legendPosition="bottom"))
    case("timeseries-custom.json", "ml-drift.json", "KS statistic D", 'panel 4 "KS statistic D" (timeseries)', '"dots"',
         lambda p: p["fieldConfig"]["defaults"]["custom"].update(drawStyle="dots"))
    case("bargauge-missing-option.json", "ml-drift.json", "Current PSI per feature",
         'panel 2 "Current PSI per feature" (bargauge)', "valueMode", lambda p: p["options"].pop("valueMode"))
    case("unknown-kind.json", "ml-overview.json", "Model", 'panel 2 "Model" (tables)', '"tables"',
         lambda p: p.update(type="tables"))
    case("link.json", "ml-overview.json", None, 'dashboard "links"', "keepTime", lambda b: b["links"][0].pop("keepTime"))
    return cases


def test_a_wrong_panel_option_fails_naming_the_dashboard_and_panel(node_modules):
    cases = wrong_dashboards()
    found = typecheck.check({name: board for name, (board, _, _) in cases.items()}, node_modules)
    print("\n".join(map(str, found)))  # shown with pytest -s: what a user sees
    for name, (_, label, word) in cases.items():
        mine = [f for f in found if f.dashboard == name]
        assert [f.panel for f in mine] == [label], (name, mine)
        assert word in mine[0].message, mine[0]
    assert len(found) == len(cases)
