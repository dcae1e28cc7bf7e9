"""`python -m retrain train` end to end with a real redis-server and a real BentoML store: concept-drifted labelled
traffic in Redis -> a new version trained by bento_service/train.py's code, saved with its own reference profile,
registered as the challenger in shadow; it beats the champion on the newest slice; the lock and too little data refuse."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time

import bentoml
import numpy as np
import pytest
import redis

from bento_service.model_store import BOOSTER_FILE, PROFILE_FILE, load_booster, predict_scores
from contracts import model_versions as versions
from drift_client import redis_layout as layout
from drift_client.reference_profile import ReferenceProfile
from retrain import admission
from scripts import servers
from transactions import FEATURE_NAMES, LABEL, generate

pytestmark = pytest.mark.integration
MODEL = "fraud_detector"


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """A BentoML home of its own holding a copy of the fraud model, so the new version lands nowhere else."""
    home = tmp_path_factory.mktemp("bentoml-retrain")
    shutil.copytree(servers.DEFAULT_BENTOML_HOME / "models" / MODEL, home / "models" / MODEL, symlinks=True)
    return home


@pytest.fixture
def client(redis_server):
    client = redis.Redis.from_url(redis_server.extra["url"])
    client.flushdb()
    yield client
    client.flushdb()


def champion(store):
    os.environ["BENTOML_HOME"], old = str(store), os.environ.get("BENTOML_HOME")
    try:
        return bentoml.models.get(f"{MODEL}:latest")
    finally:  # put back exactly what was there: an empty BENTOML_HOME left behind sends later subprocesses of
        # this test process to an empty store (test_kubernetes's init-container check failed so under xdist)
        if old is None:
            os.environ.pop("BENTOML_HOME", None)
        else:
            os.environ["BENTOML_HOME"] = old


def publish_concept_traffic(client, model, n: int) -> None:
    booster = load_booster(model.path_of(BOOSTER_FILE))
    keys = layout.Keys(MODEL, model.tag.version)
    client.sadd(layout.models_key(), keys.member)
    df = generate(n, seed=5, scenario="concept")
    x = df[list(FEATURE_NAMES)].to_numpy(np.float32)
    scores = predict_scores(booster, x)
    ids = [f"c{i}" for i in range(n)]
    now = time.time()
    for start in range(0, n, 1000):
        part = slice(start, start + 1000)
        t = np.linspace(now - 600, now - 60, n)[part]  # ten minutes of traffic, in order
        client.xadd(keys.predictions, layout.encode_predictions(layout.PredictionBatch(ids[part], t, x[part], scores[part])))
        client.xadd(keys.labels, layout.encode_labels(layout.LabelBatch(ids[part], t + 30, df[LABEL].to_numpy()[part].astype(np.uint8))))


def retrain(redis_server, store, *args) -> subprocess.CompletedProcess:
    env = {**os.environ, "REDIS_URL": redis_server.extra["url"], "BENTOML_HOME": str(store), "ALERTMANAGER_URL": ""}
    return subprocess.run([sys.executable, "-m", "retrain", "train", "--model", MODEL, "--hours", "1", *args],
                          env=env, capture_output=True, text=True, timeout=600)


def test_a_challenger_is_trained_on_recent_labels_and_registered_in_shadow(redis_server, store, client):
    old = champion(store)
    publish_concept_traffic(client, old, 12_000)
    done = retrain(redis_server, store)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    state = versions.load(client, MODEL)
    assert (state.champion, state.mode) == (old.tag.version, "shadow")
    assert state.challenger not in (None, old.tag.version) and set(state.available) == {old.tag.version, state.challenger}
    assert json.loads(done.stdout.strip().splitlines()[-1])["challenger"] == state.challenger
    new_home_model = (store / "models" / MODEL / state.challenger)
    profile = ReferenceProfile.from_json((new_home_model / PROFILE_FILE).read_text())
    assert profile.model_version == state.challenger and len(profile.features) == len(FEATURE_NAMES)
    # its own reference, built from its training rows: the first 70% of the traffic in time, concept fraud (~5%)
    assert profile.positive_rate > 0.035
    assert profile.bins["amount"].count == int(round(12_000 * 0.70))
    line = next(l for l in done.stdout.splitlines() if "now the challenger in shadow" in l)
    new_auc = float(line.split("ROC AUC on the newest")[1].split()[2])
    old_auc = float(line.split("(champion")[1].split(":")[1].split(")")[0])
    print(line)
    assert new_auc > old_auc + 0.02, line  # the new pattern is learnt: it beats the champion where it will serve
    assert not client.exists(admission.lock_key(MODEL))


def test_refusals(redis_server, store, client):
    publish_concept_traffic(client, champion(store), 1_000)
    few = retrain(redis_server, store)
    assert few.returncode == 3 and "1000 labelled rows" in few.stderr
    held = admission.Lock(client, MODEL)
    assert held.acquire()
    try:
        locked = retrain(redis_server, store, "--min-rows", "100", "--min-positives", "5")
        assert locked.returncode == 4 and "another retraining" in locked.stderr
    finally:
        held.release()
    assert versions.load(client, MODEL) is None  # nothing registered by a refused run
