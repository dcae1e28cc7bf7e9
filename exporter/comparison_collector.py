"""Champion vs challenger series, rendered at scrape time from the monitor's last comparisons and versions documents."""
from __future__ import annotations

import math
from typing import Iterable

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from contracts import metric_names as names

PAIR = ["model_name", "champion", "challenger", "mode"]
VERSION = ["model_name", "model_version", "role"]


class ComparisonCollector(Collector):
    def __init__(self, monitor) -> None:
        self.monitor = monitor

    def collect(self) -> Iterable:
        perf = GaugeMetricFamily(names.COMPARISON_PERFORMANCE, "Each serving version's performance on the compared labelled traffic",
                                 labels=[*VERSION, "metric"])
        labelled = GaugeMetricFamily(names.COMPARISON_LABELLED, "Labelled predictions each version is compared on",
                                     labels=VERSION)
        difference = GaugeMetricFamily(names.COMPARISON_DIFFERENCE, "Challenger minus champion", labels=[*PAIR, "metric"])
        interval = GaugeMetricFamily(names.COMPARISON_DIFFERENCE_INTERVAL,
                                     "Confidence interval (95%) of the ROC AUC difference (DeLong)", labels=[*PAIR, "bound"])
        pvalue = GaugeMetricFamily(names.COMPARISON_PVALUE, "DeLong's two-sided p-value of equal ROC AUC", labels=PAIR)
        wins = GaugeMetricFamily(names.COMPARISON_CHALLENGER_WINS,
                                 "1 when the challenger beats the champion by the promotion rule", labels=PAIR)
        role = GaugeMetricFamily(names.MODEL_VERSION_ROLE, "1 for each version that serves, by role", labels=[*VERSION, "mode"])
        share = GaugeMetricFamily(names.MODEL_AB_SHARE, "The challenger's share of answered traffic in ab mode (else 0)",
                                  labels=["model_name"])
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
