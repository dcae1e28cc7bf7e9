"""The pure parts of serving two versions (bento_service/versions.py, bento_service/versions_api.py): which version
answers, who scored what, the shadow queue's bound, following a versions document, the token."""
from __future__ import annotations

import numpy as np
import pytest
import xgboost as xgb

from bento_service.versions import ModelVersions, Plan, ScoredBy, ShadowCounters, ShadowScorer, challenger_answers
from bento_service.versions_api import authorised, configured_token, current_state
from contracts.model_versions import TOKEN_ENV, TOKEN_FILE_ENV, VersionsState, answers_challenger


class Recorder:
    """A publishing client that keeps what it is given."""

    def __init__(self) -> None:
        self.predictions: list[tuple[list[str], np.ndarray]] = []
        self.labels: list[tuple[str, int]] = []

    def log_predictions(self, ids, rows, scores) -> None:
        self.predictions.append((list(ids), np.asarray(scores)))

    def log_label(self, tid, label) -> None:
        self.labels.append((tid, label))

    def ids(self) -> list[str]:
        return [t for ids, _ in self.predictions for t in ids]


class Served:
    """A loaded version: a real (tiny) booster, a recording client."""

    def __init__(self, version: str, booster: xgb.Booster, name: str = "m") -> None:
        self.name, self.version, self.booster, self.client, self.threshold = name, version, booster, Recorder(), 0.5


def booster(seed: int) -> xgb.Booster:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(300, 2)).astype(np.float32)
    y = (x[:, 0] + rng.normal(scale=0.5, size=300) > 0).astype(int)
    return xgb.train({"objective": "binary:logistic", "max_depth": 2, "nthread": 1, "seed": seed},
                     xgb.DMatrix(x, y), num_boost_round=5)


@pytest.fixture
def served():
    return {"v1": Served("v1", booster(1)), "v2": Served("v2", booster(2))}


def versions_of(served, shadow=None, capacity=1000) -> ModelVersions:
    def load(name, version):
        if version not in served:
            raise KeyError(f"{name}:{version} not in the store")
        return served[version]
    return ModelVersions(served["v1"], load, shadow, ScoredBy(capacity))


ROWS = np.random.default_rng(0).normal(size=(6, 2)).astype(np.float32)
IDS = [f"t{i}" for i in range(6)]


def test_only_ab_lets_the_challenger_answer_sticky_by_id():
    ids = [f"tx-{i}" for i in range(5000)]
    for mode in ("off", "shadow"):
        assert not challenger_answers(ids, mode, 0.5).any()
    assert not challenger_answers(ids, "ab", 0.0).any() and challenger_answers(ids, "ab", 1.0).all()
    chosen = challenger_answers(ids, "ab", 0.3)
    assert chosen.tolist() == [answers_challenger(i, 0.3) for i in ids]
    assert (challenger_answers(ids[::-1], "ab", 0.3)[::-1] == chosen).all(), "an id's arm does not depend on its batch"
    assert abs(chosen.mean() - 0.3) < 0.02
    # a larger share keeps every id of the smaller share in the challenger's arm (a ramp-up moves no one back)
    assert (challenger_answers(ids, "ab", 0.5) | ~chosen).all()


def test_the_hash_split_is_uniform_within_a_point_over_many_ids():
    ids = [f"txn-{i:08d}" for i in range(100_000)]
    for share in (0.05, 0.3, 0.5, 0.9):
        assert abs(challenger_answers(ids, "ab", share).mean() - share) < 0.01, share


def test_plan_names_the_versions_that_serve(served):
    assert Plan(served["v1"]).serving_versions() == ("v1",)
    assert Plan(served["v1"], served["v2"], "off").serving_versions() == ("v1",)
    assert Plan(served["v1"], served["v2"], "shadow").serving_versions() == ("v1", "v2")
    assert Plan(served["v1"], served["v2"], "shadow").shadow is served["v2"]
    assert Plan(served["v1"], served["v2"], "ab", 1.0).shadow is None


def test_scored_by_is_bounded_and_combines_versions():
    seen = ScoredBy(capacity=3)
    seen.add(["a", "b"], "v1")
    seen.add(["a"], "v2")
    seen.add(["a"], "v2")
    assert seen.get("a") == ("v1", "v2") and seen.get("b") == ("v1",) and seen.get("z") == ()
    seen.add(["c", "d"], "v1")  # b is the least recently scored
    assert len(seen) == 3 and seen.get("b") == () and seen.get("a") == ("v1", "v2")
    assert seen.get("c") is seen.get("d"), "one tuple per combination, not one per id"


def test_off_scores_with_the_champion_only(served):
    versions = versions_of(served)
    scores, answered = versions.score(IDS, ROWS)
    assert [m.version for m in answered] == ["v1"] * 6
    assert np.allclose(scores, served["v1"].booster.inplace_predict(ROWS))
    assert served["v1"].client.ids() == IDS and not served["v2"].client.predictions


def test_ab_answers_each_id_by_its_arm_and_each_arm_publishes_its_own(served):
    versions = versions_of(served)
    versions.follow(VersionsState("v1", "v2", "ab", 0.5, ("v1", "v2"), revision=1))
    ids = [f"t{i}" for i in range(40)]
    rows = np.random.default_rng(1).normal(size=(40, 2)).astype(np.float32)
    scores, answered = versions.score(ids, rows)
    arm = challenger_answers(ids, "ab", 0.5)
    assert 0 < arm.sum() < 40
    assert [m.version for m in answered] == ["v2" if c else "v1" for c in arm]
    for version, chosen in (("v1", ~arm), ("v2", arm)):
        assert np.allclose(scores[chosen], served[version].booster.inplace_predict(rows[chosen]))
        assert served[version].client.ids() == [i for i, c in zip(ids, chosen) if c]
        for tid in served[version].client.ids():
            assert versions.label_versions(tid) == (version,)


def test_shadow_returns_the_champion_and_queues_the_challenger(served):
    queue = ShadowScorer(capacity=10)  # not started: drained by hand
    versions = versions_of(served, queue)
    versions.follow(VersionsState("v1", "v2", "shadow", 0.0, ("v1", "v2"), revision=1))
    scores, answered = versions.score(IDS, ROWS)
    assert {m.version for m in answered} == {"v1"} and np.allclose(scores, served["v1"].booster.inplace_predict(ROWS))
    assert not served["v2"].client.predictions and queue.pending() == 1
    assert versions.label_versions("t0") == ("v1", "v2"), "a label that arrives before the shadow scoring finds both"
    assert queue.drain() == 6
    ids, challenger_scores = served["v2"].client.predictions[0]
    assert ids == IDS and np.allclose(challenger_scores, served["v2"].booster.inplace_predict(ROWS))
    versions.log_label("t0", 1)
    assert served["v1"].client.labels == [("t0", 1)] and served["v2"].client.labels == [("t0", 1)]


class Counting(ShadowCounters):
    def __init__(self) -> None:
        self.counts: dict[str, int] = {"scored": 0, "dropped": 0, "failed": 0}

    def scored(self, model_name, version, n): self.counts["scored"] += n
    def dropped(self, model_name, version, n): self.counts["dropped"] += n
    def failed(self, model_name, version, n): self.counts["failed"] += n


def test_a_full_shadow_queue_drops_and_counts_never_blocks(served):
    counters = Counting()
    queue = ShadowScorer(capacity=2, counters=counters)
    versions = versions_of(served, queue)
    versions.follow(VersionsState("v1", "v2", "shadow", 0.0, ("v1", "v2"), revision=1))
    for i in range(5):
        versions.score([f"q{i}"], ROWS[:1])
    assert queue.pending() == 2 and counters.counts["dropped"] == 3
    assert versions.label_versions("q4") == ("v1",), "a dropped transaction was not scored by the challenger"
    queue.drain()
    assert counters.counts == {"scored": 2, "dropped": 3, "failed": 0}
    served["v2"].booster = None  # a broken challenger: counted as failed, the thread goes on
    versions.score(["q9"], ROWS[:1])
    queue.drain()
    assert counters.counts["failed"] == 1


def test_the_shadow_thread_scores_in_the_background(served):
    queue = ShadowScorer(capacity=100).start()
    try:
        versions = versions_of(served, queue)
        versions.follow(VersionsState("v1", "v2", "shadow", 0.0, ("v1", "v2"), revision=1))
        versions.score(IDS, ROWS)
        import time
        deadline = time.monotonic() + 5
        while not served["v2"].client.predictions and time.monotonic() < deadline:
            time.sleep(0.01)
        assert served["v2"].client.ids() == IDS
    finally:
        queue.stop()


def test_following_a_document_that_names_a_missing_version(served):
    versions = versions_of(served)
    versions.follow(VersionsState("v1", "v2", "shadow", 0.0, ("v1", "v2"), revision=1))
    assert versions.plan.serving_versions() == ("v1", "v2")
    before, attempts = versions.plan, []
    loader = versions.loader
    versions.loader = lambda name, version: attempts.append(version) or loader(name, version)
    unservable = VersionsState("v9", None, "off", 0.0, ("v1", "v9"), revision=2)
    assert versions.follow(unservable) is before, "a champion that cannot be loaded: the plan stays"
    assert versions.follow(unservable) is before and attempts == ["v9"], "the same document is not retried at every poll"
    plan = versions.follow(VersionsState("v1", "v9", "ab", 0.5, ("v1", "v9"), revision=3))
    assert plan.challenger is None and plan.mode == "off", "a challenger that cannot be loaded is left out"
    assert versions.follow(None) is plan, "no document: keep serving"
    assert versions.get("v2") is served["v2"] and set(versions.loaded) == {"v1", "v2"}, "loaded once, cached"


def test_label_without_memory_goes_to_the_versions_serving_now(served):
    versions = versions_of(served)
    assert versions.label_versions("never-seen") == ("v1",)
    versions.follow(VersionsState("v1", "v2", "shadow", 0.0, ("v1", "v2"), revision=1))
    assert versions.label_versions("never-seen") == ("v1", "v2")


def test_the_token_comes_from_a_file_or_the_environment(tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text("from-file\n")
    assert configured_token({TOKEN_FILE_ENV: str(token_file), TOKEN_ENV: "from-env"}) == b"from-file"
    assert configured_token({TOKEN_ENV: " from-env "}) == b"from-env"
    assert configured_token({}) is None and configured_token({TOKEN_ENV: ""}) is None
    assert configured_token({TOKEN_FILE_ENV: str(tmp_path / "missing")}) is None, "unreadable: refused, not open"
    (tmp_path / "empty").write_text("\n")
    assert configured_token({TOKEN_FILE_ENV: str(tmp_path / "empty")}) is None


@pytest.mark.parametrize("header, ok", [
    ("Bearer s3cret", True), ("bearer s3cret", True), ("Bearer  s3cret ", True),
    ("Bearer s3cre", False), ("Bearer s3cret2", False), ("Basic s3cret", False), ("s3cret", False), ("", False),
    (None, False), ("Bearer", False), ("Bearer é", False),
])
def test_authorised(header, ok):
    assert authorised(header, b"s3cret") is ok


def test_current_state_completes_the_document_with_the_store(served):
    versions = versions_of(served)
    assert current_state(versions, None, ["v1", "v2"]).to_api() == {
        "champion": "v1", "challenger": None, "mode": "off", "ab_share": 0.0, "available": ["v1", "v2"]}
    document = VersionsState("v2", "v1", "shadow", 0.0, ("v2", "v1", "v0"), revision=4)
    state = current_state(versions, document, ["v1", "v2", "v3"])
    assert state.available == ("v2", "v1", "v0", "v3") and state.revision == 4 and state.champion == "v2"
    assert state.apply({"challenger": "v3"}).challenger == "v3"


def test_the_token_variables_are_the_documented_ones():
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    for doc in ("docs/champion-challenger.md", "docs/configuration.md", "docs/design.md"):
        text = (root / doc).read_text()
        assert TOKEN_FILE_ENV in text and TOKEN_ENV in text, doc


class FakeRedis:
    """GET of the versions documents only; `down` raises as redis-py does when Redis is unreachable."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}
        self.down = False

    def get(self, key: str):
        if self.down:
            import redis
            raise redis.ConnectionError("connection refused")
        return self.values.get(key)


def test_the_poller_follows_the_document_and_keeps_the_last_when_redis_is_down(served):
    from bento_service.versions import VersionsPoller
    from contracts.model_versions import versions_key

    versions, client, status = versions_of(served), FakeRedis(), []
    poller = VersionsPoller(client, {"m": versions}, "drift", on_status=status.append)
    assert poller.poll() and versions.plan.serving_versions() == ("v1",), "no document: the default version"
    client.values[versions_key("m", "drift")] = VersionsState("v2", "v1", "shadow", 0.0, ("v1", "v2"), revision=3).to_json()
    assert poller.poll() and versions.plan.champion.version == "v2" and versions.plan.mode == "shadow"
    client.down = True
    assert not poller.poll() and versions.plan.champion.version == "v2", "Redis down: the last known versions serve"
    client.down = False
    client.values[versions_key("m", "drift")] = "{not json"
    assert poller.poll() and versions.plan.champion.version == "v2", "a malformed document is not followed"
    del client.values[versions_key("m", "drift")]
    assert poller.poll() and versions.plan.champion.version == "v2", "a missing document: the last known champion"
    assert status == [True, True, False, True, True]


def test_put_is_refused_without_a_configured_token_and_names_the_variables(monkeypatch):
    import asyncio

    import httpx
    from starlette.applications import Starlette
    from starlette.routing import Route

    from bento_service.versions_api import VERSIONS_TEMPLATE, versions_endpoint

    app = Starlette(routes=[Route(VERSIONS_TEMPLATE, versions_endpoint, methods=["GET", "PUT"])])
    url = "http://service/api/v1/models/any_model/versions"

    def put(headers: dict | None = None) -> httpx.Response:
        async def call() -> httpx.Response:
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as client:
                return await client.put(url, json={"mode": "off"}, headers=headers or {})
        return asyncio.run(call())

    monkeypatch.delenv(TOKEN_FILE_ENV, raising=False)
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    refused = put({"Authorization": "Bearer anything"})
    assert refused.status_code == 403 and TOKEN_FILE_ENV in refused.json()["detail"] and TOKEN_ENV in refused.json()["detail"]
    monkeypatch.setenv(TOKEN_ENV, "s3cret")
    wrong = put({"Authorization": "Bearer s3cre"})
    assert wrong.status_code == 401 and wrong.headers["www-authenticate"] == "Bearer"
    assert put().status_code == 401
    unknown = put({"Authorization": "Bearer s3cret"})
    assert unknown.status_code == 404 and unknown.json()["field"] == "model_name", "authorised, but no such model"
