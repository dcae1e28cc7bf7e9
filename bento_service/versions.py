"""Two versions of a model served at once: which version answers a request, the challenger's scoring off the request
path, and the versions document (contracts/model_versions.py) followed from Redis without a restart.

- `Plan`: what serves now (the champion's and the challenger's loaded models, the mode, the A/B share);
  `Plan.answering` says, per transaction id, whether the champion or the challenger answers.
- `ModelVersions`: one model's plan, its loaded versions (loaded from the BentoML store on first need, then cached),
  who scored which transaction (so that a label reaches every version that scored it), and the scoring itself.
- `ShadowScorer`: a bounded queue and one background thread that drains it every SHADOW_INTERVAL_SECONDS (0.05 s),
  scoring what waits in one call per version; shadow mode hands it the challenger's work and never waits: a full
  queue drops the work and counts it.
- `VersionsPoller`: reads every model's versions document every `VERSIONS_POLL_SECONDS` (0.25 s). Redis down or the
  document missing: the last known plan keeps serving (or the default version the service started with).
"""
from __future__ import annotations

import logging
import os
import threading
import time
from collections import OrderedDict, deque
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from bento_service.model_store import predict_scores
from contracts import model_versions
from contracts.model_versions import VersionsState, answers_challenger
from drift_client.redis_layout import DEFAULT_PREFIX
from drift_client.worker import PeriodicWorker

log = logging.getLogger("bentoml.serve.versions")

POLL_SECONDS = float(os.environ.get("VERSIONS_POLL_SECONDS", "0.25"))
SHADOW_QUEUE_REQUESTS = int(os.environ.get("SHADOW_QUEUE_REQUESTS", "2000"))  # queued requests, not rows
SHADOW_INTERVAL_SECONDS = float(os.environ.get("SHADOW_INTERVAL_SECONDS", "0.05"))  # how often the queue is drained
SCORED_BY_ENTRIES = int(os.environ.get("SCORED_BY_ENTRIES", "100000"))  # ids remembered per model: about 17 MiB


def challenger_answers(ids: Sequence[str], mode: str, ab_share: float) -> np.ndarray:
    """Per id, True when the challenger answers it: only in `ab`, sticky by transaction id."""
    if mode != "ab" or ab_share <= 0.0:
        return np.zeros(len(ids), bool)
    return np.fromiter((answers_challenger(i, ab_share) for i in ids), bool, len(ids))


@dataclass(frozen=True)
class Plan:
    """What serves one model now. `served` is a loaded model (bento_service.models_api.ServedModel)."""

    champion: object
    challenger: object | None = None
    mode: str = "off"
    ab_share: float = 0.0
    revision: int = -1  # the versions document's revision; -1: no document (the default version)

    @property
    def shadow(self) -> object | None:
        return self.challenger if self.mode == "shadow" else None

    def answering(self, ids: Sequence[str]) -> np.ndarray:
        """Per id, True when the challenger answers."""
        if self.challenger is None:
            return np.zeros(len(ids), bool)
        return challenger_answers(ids, self.mode, self.ab_share)

    def serving_versions(self) -> tuple[str, ...]:
        """The versions that score traffic now (the challenger only in shadow or ab)."""
        if self.challenger is not None and self.mode != "off":
            return (self.champion.version, self.challenger.version)
        return (self.champion.version,)


class ScoredBy:
    """Which versions scored a transaction id, for its label: the newest `capacity` ids (least recently scored
    forgotten first), bounded in memory; thread-safe."""

    def __init__(self, capacity: int = SCORED_BY_ENTRIES) -> None:
        self.capacity = capacity
        self._versions: OrderedDict[str, tuple[str, ...]] = OrderedDict()
        self._shared: dict[tuple[str, ...], tuple[str, ...]] = {}  # one tuple object per combination of versions
        self._lock = threading.Lock()

    def add(self, ids: Sequence[str], version: str) -> None:
        with self._lock:
            for tid in ids:
                known = self._versions.pop(tid, ())
                combined = known if version in known else (*known, version)
                self._versions[tid] = self._shared.setdefault(combined, combined)
            while len(self._versions) > self.capacity:
                self._versions.popitem(last=False)

    def get(self, tid: str) -> tuple[str, ...]:
        with self._lock:
            return self._versions.get(tid, ())

    def __len__(self) -> int:
        return len(self._versions)


class ShadowCounters:
    """Hooks for the shadow queue's outcomes (the service points them at Prometheus counters)."""

    def scored(self, model_name: str, version: str, n: int) -> None: ...
    def dropped(self, model_name: str, version: str, n: int) -> None: ...
    def failed(self, model_name: str, version: str, n: int) -> None: ...


class ShadowScorer:
    """The challenger's scoring in shadow mode, off the request path: `submit` appends to a bounded queue (or drops
    and counts when it is full); one daemon thread scores what waits, a model at a time in one call."""

    def __init__(self, capacity: int = SHADOW_QUEUE_REQUESTS, counters: ShadowCounters | None = None,
                 interval: float = SHADOW_INTERVAL_SECONDS) -> None:
        self.capacity = capacity
        self.interval = interval
        self.counters = counters or ShadowCounters()
        self._queue: deque = deque()
        self._worker = PeriodicWorker("shadow-scorer", interval, self.drain)

    def start(self) -> "ShadowScorer":
        self._worker.start()
        return self

    def stop(self) -> None:
        self._worker.stop()

    def submit(self, versions: "ModelVersions", served, ids: list[str], rows: np.ndarray) -> bool:
        """Queue the challenger's scoring of `rows`; False (dropped, counted) when the queue is full."""
        if len(self._queue) >= self.capacity:
            self.counters.dropped(served.name, served.version, len(ids))
            return False
        self._queue.append((versions, served, ids, rows))
        if len(self._queue) >= self.capacity // 2:
            self._worker.wake()  # else the thread's next tick: waking it per request would compete with the response
        return True

    def pending(self) -> int:
        return len(self._queue)

    def drain(self) -> int:
        """Score everything queued now, grouped by model version; the number of rows scored."""
        jobs = [self._queue.popleft() for _ in range(len(self._queue))]
        groups: dict[int, list] = {}
        for job in jobs:
            groups.setdefault(id(job[1]), []).append(job)
        done = 0
        for group in groups.values():
            versions, served = group[0][0], group[0][1]
            ids = [tid for job in group for tid in job[2]]
            try:
                versions.score_with(served, ids, np.concatenate([job[3] for job in group]), remember=False)
                self.counters.scored(served.name, served.version, len(ids))
                done += len(ids)
            except Exception:  # a failing challenger must not stop the thread (nor ever the champion)
                log.exception("shadow scoring by %s %s failed", served.name, served.version)
                self.counters.failed(served.name, served.version, len(ids))
        return done


Loader = Callable[[str, str], object]  # (model name, version) -> a loaded ServedModel


class ModelVersions:
    """One model's versions: the plan that serves, the loaded versions, who scored what."""

    def __init__(self, default, loader: Loader, shadow: ShadowScorer | None = None,
                 scored_by: ScoredBy | None = None) -> None:
        self.name = default.name
        self.default = default
        self.loader = loader
        self.shadow = shadow
        self.scored_by = scored_by or ScoredBy()
        self.loaded: dict[str, object] = {default.version: default}
        self.plan = Plan(default)
        self.state: VersionsState | None = None  # the last document read (None: none seen yet)
        self._unservable: VersionsState | None = None  # the last document whose champion could not be loaded
        self._load_lock = threading.Lock()
        # Held while a document is read and followed (poller) or written and followed (PUT), so that a poll that read
        # the document just before a PUT cannot follow it just after and put the old versions back for a moment.
        self.sync_lock = threading.Lock()

    def get(self, version: str):
        """The loaded model of `version`, loading it from the store on first need (raises if it cannot be loaded)."""
        served = self.loaded.get(version)
        if served is not None:
            return served
        with self._load_lock:
            if version not in self.loaded:
                started = time.perf_counter()
                self.loaded[version] = self.loader(self.name, version)
                log.info("loaded %s %s in %.0f ms", self.name, version, 1000 * (time.perf_counter() - started))
            return self.loaded[version]

    def follow(self, state: VersionsState | None) -> Plan:
        """Serve what `state` says (None: keep the current plan). A version that cannot be loaded is not served:
        the champion stays as it was, a challenger is left out; both logged."""
        if state is None or state == self.state or state == self._unservable:
            return self.plan
        try:
            champion = self.get(state.champion)
        except Exception as exc:
            log.error("versions document of %s names champion %s, which cannot be loaded (%s): still serving %s",
                      self.name, state.champion, exc, self.plan.champion.version)
            self._unservable = state  # not retried (nor logged) at every poll; the next change of the document is
            return self.plan
        challenger = None
        if state.challenger is not None:
            try:
                challenger = self.get(state.challenger)
            except Exception as exc:
                log.error("challenger %s of %s cannot be loaded (%s): serving the champion alone",
                          state.challenger, self.name, exc)
        mode = state.mode if challenger is not None else "off"
        self.plan = Plan(champion, challenger, mode, state.ab_share, state.revision)
        self.state = state
        return self.plan

    def score_with(self, served, ids: list[str], rows: np.ndarray, remember: bool = True) -> np.ndarray:
        """`served` scores `rows` and publishes them under its own version; remembered for the labels."""
        scores = predict_scores(served.booster, rows)
        served.client.log_predictions(ids, rows, scores)
        if remember:
            self.scored_by.add(ids, served.version)
        return scores

    def score(self, ids: list[str], rows: np.ndarray) -> tuple[np.ndarray, list]:
        """Scores of `rows` and, per row, the loaded model that answered it. In shadow mode the challenger's work
        is queued, never awaited."""
        plan = self.plan
        by_challenger = plan.answering(ids)
        if not by_challenger.any():
            answered = [plan.champion] * len(ids)
            scores = self.score_with(plan.champion, ids, rows)
        else:
            scores = np.empty(len(ids), np.float32)
            answered = [plan.challenger if c else plan.champion for c in by_challenger]
            for served, chosen in ((plan.champion, ~by_challenger), (plan.challenger, by_challenger)):
                if chosen.any():
                    index = np.flatnonzero(chosen)
                    scores[index] = self.score_with(served, [ids[i] for i in index], rows[index])
        if plan.shadow is not None and self.shadow is not None:
            if self.shadow.submit(self, plan.shadow, list(ids), rows):
                self.scored_by.add(ids, plan.shadow.version)  # now, so that an early label finds it too
        return scores, answered

    def answering(self, tid: str):
        """The loaded model that answers transaction `tid` now (for explanations)."""
        plan = self.plan
        return plan.challenger if plan.answering([tid])[0] else plan.champion

    def label_versions(self, tid: str) -> tuple[str, ...]:
        """The versions a label of `tid` goes to: those that scored it here, else those serving now (it may have
        been scored by another worker or before a restart; a label without its prediction is ignored downstream)."""
        return self.scored_by.get(tid) or self.plan.serving_versions()

    def log_label(self, tid: str, label: int) -> tuple[str, ...]:
        versions = self.label_versions(tid)
        for version in versions:
            self.get(version).client.log_label(tid, int(label))
        return versions


class VersionsPoller:
    """Follows every model's versions document in Redis; a failed read keeps the plans as they are."""

    def __init__(self, client, models: dict[str, ModelVersions], prefix: str = DEFAULT_PREFIX,
                 interval: float = POLL_SECONDS, on_status: Callable[[bool], None] | None = None) -> None:
        self.client = client
        self.models = models
        self.prefix = prefix
        self.interval = interval
        self.on_status = on_status or (lambda ok: None)
        self._worker = PeriodicWorker("versions-poller", interval, self.poll, final=False)
        self._failing = False

    def start(self) -> "VersionsPoller":
        self._worker.start()
        return self

    def stop(self) -> None:
        self._worker.stop()

    def poll(self) -> bool:
        """Read each model's document once and follow it; False when Redis could not be read."""
        try:
            for name, versions in self.models.items():
                with versions.sync_lock:
                    raw = self.client.get(model_versions.versions_key(name, self.prefix))
                    self._follow(versions, raw)
        except Exception as exc:  # a Redis error: the plans stay as they are
            if not self._failing:
                log.warning("versions documents unreadable (%s): serving the last known versions", exc)
            self._failing = True
            self.on_status(False)
            return False
        if self._failing:
            log.info("versions documents readable again")
        self._failing = False
        self.on_status(True)
        return True

    @staticmethod
    def _follow(versions: ModelVersions, raw: bytes | None) -> None:
        if raw is None:
            return  # no document: keep what serves (the default version, or the last known champion)
        try:
            versions.follow(VersionsState.from_json(raw).validate())
        except Exception as exc:  # a malformed document must not stop the others
            log.error("versions document of %s unusable (%s): serving the last known versions", versions.name, exc)
