"""Champion vs challenger series, rendered at scrape time from the monitor's last comparisons and versions documents."""
from __future__ import annotations

import math
from typing import Iterable

from prometheus_client.registry import Collector

from contracts import metric_names as names
from exporter.collector import family

COMPARISON = (names.COMPARISON_PERFORMANCE, names.COMPARISON_LABELLED, names.COMPARISON_DIFFERENCE,
              names.COMPARISON_DIFFERENCE_INTERVAL, names.COMPARISON_PVALUE, names.COMPARISON_CHALLENGER_WINS,
              names.MODEL_VERSION_ROLE, names.MODEL_AB_SHARE)


class ComparisonCollector(Collector):
    def __init__(self, monitor) -> None:
        self.monitor = monitor

    def collect(self) -> Iterable:
        perf, labelled, difference, interval, pvalue, wins, role, share = (family(name) for name in COMPARISON)
        for name, state in list(getattr(self.monitor, "model_versions", {}).items()):
            role.add_metric([name, state.champion, "champion", state.mode], 1.0)
            if state.challenger is not None:
                role.add_metric([name, state.challenger, "challenger", state.mode], 1.0)
            share.add_metric([name], state.ab_share if state.mode == "ab" else 0.0)
        for result in list(getattr(self.monitor, "comparisons", {}).values()):
            c = result.comparison
            pair = [result.model_name, result.champion, result.challenger, result.mode]
            for version, who, n, figures in ((result.champion, "champion", c.n_a, (c.roc_auc_a, c.average_precision_a)),
                                             (result.challenger, "challenger", c.n_b, (c.roc_auc_b, c.average_precision_b))):
                labelled.add_metric([result.model_name, version, who], n)
                for metric, value in zip(("roc_auc", "average_precision"), figures):
                    if not math.isnan(value):
                        perf.add_metric([result.model_name, version, who, metric], value)
            if not math.isnan(c.roc_auc_difference):
                difference.add_metric([*pair, "roc_auc"], c.roc_auc_difference)
                difference.add_metric([*pair, "average_precision"], c.average_precision_difference)
            if not math.isnan(c.ci_lower):
                interval.add_metric([*pair, "lower"], c.ci_lower)
                interval.add_metric([*pair, "upper"], c.ci_upper)
                pvalue.add_metric(pair, c.p_value)
            wins.add_metric(pair, 1.0 if result.challenger_wins else 0.0)
        yield from (perf, labelled, difference, interval, pvalue, wins, role, share)
