"""The report as one self-contained HTML page: inline CSS and SVG, no script, no request to anything (a Content
Security Policy forbids every fetch). Pure: a DriftReport in, a string out.

Layout, for a laptop screen: the summary first (health, window sizes, the features that drifted first), then
prediction drift and performance, then one card per feature with its reference and current distributions over the
same bins, PSI, each test's statistic and p-value, means and standard deviations and its share of the attribution.
"""
from __future__ import annotations

import datetime as dt
import math
from html import escape

from dataclasses import dataclass
from typing import Protocol

from contracts.metric_names import CRITICAL, WARNING
from contracts.policy import Policy
from drift_client.reference_profile import SCORE
from drift_client.schema import ModelSchema
from drift.snapshot import ModelSnapshot

MAX_BARS = 24  # categories drawn one by one; the rest are summed into "other"
HEALTH = {0: ("healthy", "#1a7f37"), WARNING: ("warning", "#b35900"), CRITICAL: ("critical", "#c62828")}
TEST_NAMES = {"psi": "PSI", "ks": "KS", "chi2": "Chi-square", "jensen_shannon": "Jensen-Shannon", "wasserstein": "Wasserstein"}
REFERENCE_COLOUR, CURRENT_COLOUR = "#7f93b5", "#f08a24"


@dataclass
class Distribution:
    """One column's reference and current shares over the same bins (one chart)."""

    labels: list[str]
    reference: list[float]
    current: list[float]


class DriftReport(Protocol):
    """What the page shows of a report (drift_report.core.DriftReport builds it): the renderer needs nothing else, so it
    does not import the module that builds reports."""

    snapshot: ModelSnapshot
    schema: ModelSchema
    distributions: dict[str, Distribution]
    reference_rows: int
    current_rows: int
    policy: Policy
    sources: dict[str, str]

    @property
    def judged(self) -> bool: ...

    def drifted_features(self) -> list[str]: ...

CSS = """
.dr{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:#1f2328;max-width:1280px;margin:0 auto;padding:16px 24px}
.dr h1{font-size:24px;margin:0 0 4px}.dr h2{font-size:19px;margin:28px 0 10px;border-bottom:1px solid #d0d7de;padding-bottom:4px}
.dr h3{font-size:16px;margin:0 0 6px}.dr .sub{color:#57606a;margin:0 0 14px}
.dr .cards{display:flex;flex-wrap:wrap;gap:10px;margin:10px 0}
.dr .card{border:1px solid #d0d7de;border-radius:8px;padding:8px 14px;min-width:130px;background:#f6f8fa}
.dr .card b{display:block;font-size:20px}.dr .card span{color:#57606a;font-size:12px}.dr .card span.badge{color:#fff;font-size:14px}
.dr table{border-collapse:collapse;font-variant-numeric:tabular-nums}
.dr th,.dr td{padding:4px 10px;border-bottom:1px solid #eaeef2;text-align:right;white-space:nowrap}
.dr th{background:#f6f8fa;font-weight:600}.dr td.l,.dr th.l{text-align:left}
.dr tr.flag td{background:#fff4e5}.dr .yes{color:#c62828;font-weight:600}.dr .no{color:#57606a}
.dr .badge{display:inline-block;border-radius:10px;padding:1px 9px;color:#fff;font-size:12px;font-weight:600;vertical-align:middle}
.dr .bar{display:inline-block;height:9px;background:#f08a24;border-radius:2px;vertical-align:middle}
.dr .feature{display:flex;flex-wrap:wrap;gap:18px;border:1px solid #d0d7de;border-radius:8px;padding:12px 14px;margin:12px 0}
.dr .feature.flagged{border-color:#f08a24;box-shadow:inset 4px 0 0 #f08a24}
.dr .feature svg{flex:0 0 auto}.dr .figs{flex:1 1 300px}.dr .note{color:#57606a;font-size:12px}
.dr .banner{background:#fff4e5;border:1px solid #f0b37e;border-radius:6px;padding:8px 12px;margin:10px 0}
.dr a{color:#0969da;text-decoration:none}
"""


def render_page(report: DriftReport) -> str:
    title = f"Drift report: {report.snapshot.model_name}"
    return ("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{escape(title)}</title></head><body style=\"margin:0\">{render_fragment(report)}</body></html>\n")


def render_fragment(report: DriftReport) -> str:
    """The report as a <div> with its own styles (what Jupyter shows)."""
    parts = [f"<style>{CSS}</style><div class=\"dr\">", _header(report), _summary(report)]
    if report.judged:
        parts += [_prediction(report), _performance(report), "<h2>Features</h2>"]
        parts += [_feature(report, name) for name in _ordered(report)]
    parts.append(_footer(report))
    parts.append("</div>")
    return "".join(parts)


# ---- sections ------------------------------------------------------------------------------------------------------
def _header(r: DriftReport) -> str:
    snap = r.snapshot
    when = dt.datetime.fromtimestamp(snap.computed_at, dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    where = " · ".join(f"{escape(k)}: <code>{escape(v)}</code>" for k, v in r.sources.items())
    model = escape(snap.model_name) + (f" {escape(snap.model_version)}" if snap.model_version not in ("", "reference") else "")
    return f"<h1>Drift report: {model}</h1><p class=\"sub\">{where + ' · ' if where else ''}computed {when}</p>"


def _summary(r: DriftReport) -> str:
    snap = r.snapshot
    name, colour = HEALTH.get(snap.health_status, HEALTH[CRITICAL])
    drifted = r.drifted_features()
    cards = [
        ("health", f"<span class=\"badge\" style=\"background:{colour}\">{name}</span>" if r.judged else "not judged"),
        ("features drifted", f"{len(drifted)} of {len(r.schema.names)}" if r.judged else "—"),
        ("prediction drift", _yes_no(snap.prediction_drift.get("drifted")) if snap.prediction_drift else "—"),
        ("reference rows", f"{r.reference_rows:,}"),
        ("current rows", f"{r.current_rows:,}"),
    ]
    if snap.skipped_rows:
        cards.append(("skipped (missing or non-finite)", f"{snap.skipped_rows:,}"))
    if snap.labels:
        cards.append(("labelled rows", f"{snap.labels:,}"))
    if not math.isnan(snap.window_hours):
        cards.append(("window", f"{snap.window_hours:g} h"))
    out = ["<div class=\"cards\">", *(f"<div class=\"card\"><span>{k}</span><b>{v}</b></div>" for k, v in cards), "</div>"]
    if not r.judged:
        out.append(f"<div class=\"banner\">Not judged: {snap.predictions:,} usable rows, at least "
                   f"{r.policy.min_window_samples:,} are needed (MIN_WINDOW_SAMPLES).</div>")
        return "".join(out)
    if drifted:
        out.append(f"<p><b>Drifted:</b> {', '.join(_link(f) for f in _ordered(r) if f in drifted)}</p>")
    out.append("<table><tr><th class=\"l\">feature</th><th class=\"l\">kind</th><th>drifted</th><th>PSI</th>"
               "<th class=\"l\">tests</th><th>reference mean</th><th>current mean</th><th class=\"l\">attribution</th></tr>")
    for f in _ordered(r):
        v = snap.features[f]
        tests = "; ".join(_test_short(n, t) for n, t in v.tests.items() if n != "psi" or t.drifted)
        out.append(f"<tr class=\"{'flag' if v.drifted else ''}\"><td class=\"l\">{_link(f)}</td><td class=\"l\">{v.kind}</td>"
                   f"<td>{_yes_no(v.drifted)}</td><td>{_num(v.psi)}</td><td class=\"l\">{tests}</td>"
                   f"<td>{_num(v.reference_mean)}</td><td>{_num(v.current_mean)}</td><td class=\"l\">{_share(v.attribution)}</td></tr>")
    out.append("</table>")
    return "".join(out)


def _prediction(r: DriftReport) -> str:
    p = r.snapshot.prediction_drift
    if not p:
        return ("<h2>Prediction drift</h2><p class=\"note\">No score column: pass one (<code>--score-column</code>, "
                "<code>score=</code>) to judge the model's output.</p>")
    test, label = ("ks", "KS D") if "ks_statistic" in p else ("chi2", "chi-square")  # multiclass: predicted classes
    table = (f"<table><tr><th>PSI</th><th>{label}</th><th>p-value</th><th>drifted</th></tr><tr><td>{_num(p['psi'])}</td>"
             f"<td>{_num(p[test + '_statistic'])}</td><td>{_p(p[test + '_pvalue'])}</td><td>{_yes_no(p['drifted'])}</td></tr>"
             f"</table>")
    chart = _chart(r.distributions[SCORE], "score") if SCORE in r.distributions else ""
    flagged = " flagged" if p["drifted"] else ""
    return f"<h2>Prediction drift</h2><div class=\"feature{flagged}\">{chart}<div class=\"figs\">{table}</div></div>"


def _performance(r: DriftReport) -> str:
    snap = r.snapshot
    if not snap.performance and not snap.estimated_performance:
        return ""
    metrics = list(dict.fromkeys([*snap.performance, *snap.estimated_performance]))
    rows = []
    for m in metrics:
        interval = snap.estimated_performance_interval.get(m)
        est = _num(snap.estimated_performance.get(m))
        if interval:
            est += f" <span class=\"note\">[{_num(interval['lower'])}, {_num(interval['upper'])}]</span>"
        rows.append(f"<tr><td class=\"l\">{m}</td><td>{_num(snap.reference_performance.get(m))}</td>"
                    f"<td>{_num(snap.performance.get(m))}</td><td>{est}</td></tr>")
    positives = f" and {r.policy.min_labelled_positives} positives" if snap.task == "binary" else ""
    note = "" if snap.performance else (f"<p class=\"note\">Realized figures need a label column with at least "
                                        f"{r.policy.min_labelled_samples} labels{positives}.</p>")
    return ("<h2>Performance</h2><table><tr><th class=\"l\">metric</th><th>reference</th><th>current (labels)</th>"
            "<th>estimated from scores [95% interval]</th></tr>" + "".join(rows) + "</table>" + note)


def _feature(r: DriftReport, name: str) -> str:
    v = r.snapshot.features[name]
    rows = [("PSI", _num(v.psi), "")]
    for test, t in v.tests.items():
        if test == "psi":
            continue
        effect = f"effect {_num(t.effect)}" if t.effect is not None and not _nan(t.effect) else ""
        rows.append((TEST_NAMES.get(test, test), f"{_num(t.statistic)}" + (f", p = {_p(t.pvalue)}" if not _nan(t.pvalue) else ""),
                     f"{effect}{' · ' if effect else ''}{_yes_no(t.drifted, 'flags', 'does not flag')}"))
    if "psi" in v.tests:
        rows[0] = ("PSI", _num(v.psi), _yes_no(v.tests["psi"].drifted, "flags", "does not flag"))
    rows += [("mean", f"{_num(v.reference_mean)} → {_num(v.current_mean)}", ""),
             ("std", f"{_num(v.reference_std)} → {_num(v.current_std)}", ""),
             ("attribution", _share(v.attribution), "share of the drift impact (importance × PSI)")]
    if not _nan(v.unseen_ratio):
        rows.append(("unseen", f"{v.unseen_ratio:.2%}", "of the current values were never seen in the reference"))
    table = "<table>" + "".join(f"<tr><td class=\"l\">{a}</td><td>{b}</td><td class=\"l note\">{c}</td></tr>" for a, b, c in rows) + "</table>"
    badge = f" <span class=\"badge\" style=\"background:{HEALTH[CRITICAL][1]}\">drifted</span>" if v.drifted else ""
    return (f"<div class=\"feature{' flagged' if v.drifted else ''}\" id=\"f-{escape(name)}\">{_chart(r.distributions[name], name)}"
            f"<div class=\"figs\"><h3>{escape(name)} <span class=\"note\">{v.kind}</span>{badge}</h3>{table}</div></div>")


def _footer(r: DriftReport) -> str:
    p = r.policy
    return (f"<h2>How it was judged</h2><p class=\"note\">The exporter's tests and thresholds: a feature drifts when a test "
            f"of its kind flags: PSI ≥ {p.psi_threshold:g}; KS or chi-square p below "
            f"{p.family_wise_level * (1 - p.quality_level_share):.3g} / number of tests (the family-wise level {p.family_wise_level:g} "
            f"less the {p.quality_level_share:.0%} kept for the data-quality checks, Bonferroni) with KS D ≥ {p.ks_min_statistic:g} or at least {p.chi2_min_effect:.0%} of the distribution moved. "
            f"Bins are the reference's deciles (numeric), its values (discrete, binary) or its categories plus "
            f"<code>__unseen__</code> (categorical). Health: warning when a feature drifts or a PSI reaches "
            f"{p.psi_warning:g}; critical when a PSI reaches {p.psi_threshold:g}, the scores drift or ROC AUC drops by "
            f"{p.performance_drop:g}.</p>")


# ---- the chart -----------------------------------------------------------------------------------------------------
def _chart(d: Distribution, name: str, width: int = 600, height: int = 230) -> str:
    labels, ref, cur = _bars(d)
    k = len(labels)
    rotate = k > 10 or max(len(s) for s in labels) * k > 70
    left, right, top, bottom = 44, 8, 22, (70 if rotate else 24)
    plot_w, plot_h = width - left - right, height - top - bottom
    top_share = max([*ref, *[c for c in cur if not _nan(c)], 1e-9]) * 1.1
    y = lambda s: top + plot_h * (1 - s / top_share)  # noqa: E731
    group = plot_w / k
    bar = max(group * 0.4, 1.0)
    out = [f"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" role=\"img\" "
           f"aria-label=\"{escape(name)}: reference and current shares per bin\" font-size=\"11\" font-family=\"sans-serif\">"]
    for tick in (0, top_share / 2.2, top_share / 1.1):
        out.append(f"<line x1=\"{left}\" x2=\"{width - right}\" y1=\"{y(tick):.1f}\" y2=\"{y(tick):.1f}\" stroke=\"#eaeef2\"/>"
                   f"<text x=\"{left - 4}\" y=\"{y(tick) + 4:.1f}\" text-anchor=\"end\" fill=\"#57606a\">{tick:.0%}</text>")
    for i, (label, a, b) in enumerate(zip(labels, ref, cur)):
        x = left + i * group + (group - 2 * bar) / 2
        out.append(_rect(x, y(a), bar, top + plot_h - y(a), REFERENCE_COLOUR, f"{label}: reference {a:.2%}"))
        if not _nan(b):
            out.append(_rect(x + bar, y(b), bar, top + plot_h - y(b), CURRENT_COLOUR, f"{label}: current {b:.2%}"))
        cx = left + (i + 0.5) * group
        if rotate:
            out.append(f"<text transform=\"translate({cx:.1f},{top + plot_h + 10}) rotate(-40)\" text-anchor=\"end\" "
                       f"fill=\"#1f2328\">{escape(_clip(label))}</text>")
        else:
            out.append(f"<text x=\"{cx:.1f}\" y=\"{top + plot_h + 15}\" text-anchor=\"middle\" fill=\"#1f2328\">{escape(label)}</text>")
    out.append(f"<line x1=\"{left}\" x2=\"{width - right}\" y1=\"{top + plot_h}\" y2=\"{top + plot_h}\" stroke=\"#57606a\"/>")
    out.append(f"<rect x=\"{left}\" y=\"4\" width=\"10\" height=\"10\" fill=\"{REFERENCE_COLOUR}\"/><text x=\"{left + 14}\" y=\"13\">reference</text>"
               f"<rect x=\"{left + 84}\" y=\"4\" width=\"10\" height=\"10\" fill=\"{CURRENT_COLOUR}\"/><text x=\"{left + 98}\" y=\"13\">current</text>")
    out.append("</svg>")
    return "".join(out)


def _bars(d: Distribution) -> tuple[list[str], list[float], list[float]]:
    """The bins to draw: all of them, or the MAX_BARS largest categories, the rest as 'other', then __unseen__."""
    if len(d.labels) <= MAX_BARS + 2:
        return d.labels, d.reference, d.current
    body = range(len(d.labels) - 1)  # the last bin is __unseen__
    keep = sorted(sorted(body, key=lambda i: -max(d.reference[i], _zero(d.current[i])))[:MAX_BARS])
    rest = [i for i in body if i not in set(keep)]
    labels = [d.labels[i] for i in keep] + [f"other ({len(rest)})", d.labels[-1]]
    ref = [d.reference[i] for i in keep] + [sum(d.reference[i] for i in rest), d.reference[-1]]
    cur = [d.current[i] for i in keep] + [sum(_zero(d.current[i]) for i in rest), d.current[-1]]
    return labels, ref, cur


def _rect(x: float, y: float, w: float, h: float, colour: str, title: str) -> str:
    return (f"<rect x=\"{x:.1f}\" y=\"{y:.1f}\" width=\"{w:.1f}\" height=\"{max(h, 0):.1f}\" fill=\"{colour}\">"
            f"<title>{escape(title)}</title></rect>")


# ---- formatting ----------------------------------------------------------------------------------------------------
def _ordered(r: DriftReport) -> list[str]:
    """Drifted features first, then by PSI, largest first."""
    feats = r.snapshot.features
    return sorted(feats, key=lambda f: (not feats[f].drifted, -(0 if _nan(feats[f].psi) else feats[f].psi)))


def _test_short(name: str, t) -> str:
    label = TEST_NAMES.get(name, name)
    text = f"{label} {_num(t.statistic)}" + (f" (p {_p(t.pvalue)})" if not _nan(t.pvalue) else "")
    return f"<b class=\"yes\">{text}</b>" if t.drifted else text


def _link(name: str) -> str:
    return f"<a href=\"#f-{escape(name)}\">{escape(name)}</a>"


def _share(value: float) -> str:
    if _nan(value) or value <= 0:
        return "<span class=\"no\">0</span>"
    return f"<span class=\"bar\" style=\"width:{max(value * 80, 2):.0f}px\"></span> {value:.0%}"


def _yes_no(value, yes: str = "yes", no: str = "no") -> str:
    return f"<span class=\"yes\">{yes}</span>" if value else f"<span class=\"no\">{no}</span>"


def _num(value) -> str:
    if value is None or _nan(value):
        return "—"
    value = float(value)
    if value != 0 and (abs(value) >= 1e5 or abs(value) < 1e-3):
        return f"{value:.3g}"
    return f"{value:,.4g}" if abs(value) < 1000 else f"{value:,.1f}"


def _p(value) -> str:
    if value is None or _nan(value):
        return "—"
    return "< 1e-300" if value == 0 else f"{value:.2g}"


def _nan(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _zero(value: float) -> float:
    return 0.0 if _nan(value) else value


def _clip(label: str, n: int = 18) -> str:
    return label if len(label) <= n else label[: n - 1] + "…"
