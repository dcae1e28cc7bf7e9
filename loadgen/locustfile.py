"""Locust traffic for the fraud service: predictions in a drift scenario, ground truth posted later.

    locust -f loadgen/locustfile.py                                 # web UI on :8089
    locust -f loadgen/locustfile.py --headless --scenario demo --drift-after 60 --rps 20

The rate is set with --rps (env DEFAULT_RPS): RateShape keeps ceil(rps/10) users running, each
paced to rps/users requests per second. In the web UI's form Locust greys out "Number of users" and
"Ramp up" at 0 (a LoadTestShape sets them); scenario, rps, drift_after and ramp_seconds are under
"Custom parameters"; the label and batch options are command-line only, to keep that list short.
"""
from __future__ import annotations

import os
import random
import time
import uuid

import gevent
from locust import FastHttpUser, LoadTestShape, events, task
from locust.user.wait_time import constant_throughput

from loadgen.login_traffic import BATCH_PATH, FEEDBACK_PATH, LOGIN_SCENARIOS, PREDICT_PATH, LoginSource, LoginTimeline
from loadgen.traffic import LOADGEN_SCENARIOS, Timeline, TransactionSource, users_for

RUN = {"started": time.monotonic(), "source": TransactionSource(uuid.uuid4().hex[:10]),
       "logins": LoginSource(uuid.uuid4().hex[:10])}
MODELS = ("fraud_detector", "login_risk", "both")


@events.init_command_line_parser.add_listener
def add_options(parser) -> None:
    parser.add_argument("--scenario", choices=LOADGEN_SCENARIOS, default=os.environ.get("SCENARIO", "baseline"),
                        help="traffic scenario (see transactions/scenarios.py); demo = baseline, then spec_drift after --drift-after; "
                             "demo_concept = baseline, then concept")
    parser.add_argument("--rps", type=float, default=float(os.environ.get("DEFAULT_RPS", "10")),
                        help="target requests per second to the prediction endpoints")
    parser.add_argument("--drift-after", type=float, default=60.0, help="demo: seconds of baseline before the drift")
    parser.add_argument("--ramp-seconds", type=float, default=300.0, help="gradual: seconds to reach the full shift")
    parser.add_argument("--label-delay", type=float, default=5.0, help="seconds before the true label is posted",
                        include_in_web_ui=False)
    parser.add_argument("--label-rate", type=float, default=0.8, help="share of predictions whose label ever arrives",
                        include_in_web_ui=False)
    parser.add_argument("--batch-share", type=float, default=0.0, help="share of requests sent to /predict_batch",
                        include_in_web_ui=False)
    parser.add_argument("--batch-size", type=int, default=10, help="transactions per /predict_batch request",
                        include_in_web_ui=False)


@events.init_command_line_parser.add_listener
def add_model_options(parser) -> None:
    """Which model(s) get traffic, and the login model's scenario (logins/scenarios.py)."""
    parser.add_argument("--model", choices=MODELS, default=os.environ.get("LOADGEN_MODEL", "fraud_detector"),
                        help="the model that gets traffic; both: --rps each")
    parser.add_argument("--login-scenario", choices=LOGIN_SCENARIOS, default=os.environ.get("LOGIN_SCENARIO", "baseline"),
                        help="login traffic scenario; demo = baseline, then unseen_country after --drift-after")


@events.test_start.add_listener
def new_run(environment, **_) -> None:
    """Each test run (also each start from the web UI) has its own clock and transaction ids."""
    RUN["started"] = time.monotonic()
    RUN["source"] = TransactionSource(uuid.uuid4().hex[:10], seed=random.randrange(2**31))
    RUN["logins"] = LoginSource(uuid.uuid4().hex[:10], seed=random.randrange(2**31))


class RateShape(LoadTestShape):
    """Holds ceil(--rps) paced users; re-read every tick, so a new rate from the web UI applies at once."""

    def tick(self):
        options = self.runner.environment.parsed_options
        if options.run_time and self.get_run_time() >= options.run_time:
            return None
        classes = user_classes(options.model)
        users = users_for(options.rps) * len(classes)
        return users, users, classes


class FraudTrafficUser(FastHttpUser):
    """One card-payment front end: scores transactions, and reports chargebacks later."""

    def on_start(self) -> None:
        opts = self.environment.parsed_options
        self.options = opts
        self.timeline = Timeline(opts.scenario, opts.drift_after, opts.ramp_seconds)
        per_user = opts.rps / users_for(opts.rps)
        self._pace = constant_throughput(per_user)
        gevent.sleep(random.uniform(0, 1 / per_user))  # spread the users over the period instead of firing together

    def wait_time(self) -> float:
        return self._pace(self)

    @task
    def score(self) -> None:
        scenario = self.timeline.at(time.monotonic() - RUN["started"])
        source = RUN["source"]
        if self.options.batch_share > 0 and random.random() < self.options.batch_share:
            txs = [source.next(scenario) for _ in range(self.options.batch_size)]
            self._post("/api/v1/predict_batch", {"transactions": [t.body() for t in txs]}, f"predict_batch [{scenario.name}]")
        else:
            txs = [source.next(scenario)]
            self._post("/api/v1/predict", txs[0].body(), f"predict [{scenario.name}]")
        for tx in txs:
            if random.random() < self.options.label_rate:
                gevent.spawn_later(self.options.label_delay, self._feedback, tx.transaction_id, tx.label)

    def _feedback(self, transaction_id: str, label: int) -> None:
        self._post("/api/v1/feedback", {"transaction_id": transaction_id, "label": label}, "feedback")

    def _post(self, path: str, body: dict, name: str) -> None:
        with self.client.post(path, json=body, name=name, catch_response=True) as response:
            if not 200 <= response.status_code < 300:
                response.failure(f"{response.status_code}: {(response.text or '')[:500]}")


class LoginTrafficUser(FastHttpUser):
    """One sign-in front end: scores logins with the login-risk model; confirmed takeovers are reported later.
    Paced and posting as FraudTrafficUser (its methods, not its task: Locust adds a base class's tasks)."""

    wait_time = FraudTrafficUser.wait_time
    _post = FraudTrafficUser._post

    def on_start(self) -> None:
        FraudTrafficUser.on_start(self)
        opts = self.options
        self.timeline = LoginTimeline(opts.login_scenario, opts.drift_after, opts.ramp_seconds)

    @task
    def score_login(self) -> None:
        scenario = self.timeline.at(time.monotonic() - RUN["started"])
        source = RUN["logins"]
        if self.options.batch_share > 0 and random.random() < self.options.batch_share:
            items = [source.next(scenario) for _ in range(self.options.batch_size)]
            self._post(BATCH_PATH, {"transactions": [i.body() for i in items]}, f"login predict_batch [{scenario.name}]")
        else:
            items = [source.next(scenario)]
            self._post(PREDICT_PATH, items[0].body(), f"login predict [{scenario.name}]")
        for item in items:
            if random.random() < self.options.label_rate:
                gevent.spawn_later(self.options.label_delay, self._post, FEEDBACK_PATH,
                                   {"transaction_id": item.transaction_id, "label": item.label}, "login feedback")


def user_classes(model: str) -> list[type]:
    """The user classes that --model selects (RateShape hands them to Locust)."""
    return {"fraud_detector": [FraudTrafficUser], "login_risk": [LoginTrafficUser]}.get(
        model, [FraudTrafficUser, LoginTrafficUser])
