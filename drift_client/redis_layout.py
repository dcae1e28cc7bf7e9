"""How monitoring samples live in Redis: the one definition that the service writes and the exporter reads.

Keys, namespaced by model name and version (`{prefix}` defaults to "drift"). Every key of a model version carries
the hash tag `{name:version}`, so that in a Redis Cluster they all live in one slot (multi-key commands and
transactions on one model work there; different models spread over the nodes):

- `{prefix}:models`                            SET of "name/version" that publish samples
- `{prefix}:{<name>:<version>}:reference`        STRING, the ReferenceProfile as JSON (drift_client.reference_profile)
- `{prefix}:{<name>:<version>}:predictions`      STREAM; one entry per flushed batch of predictions
- `{prefix}:{<name>:<version>}:labels`           STREAM; one entry per flushed batch of feedback labels
- `{prefix}:{<name>:<version>}:profile:{minute}` STRING, the exporter's profile of one minute (Unix minutes) of
                                               predictions (drift.profiles), TTL profile_retention_seconds
- `{prefix}:{<name>:<version>}:profiled`         STRING, id of the last stream entry counted into the profiles
- `{prefix}:{<name>:<version>}:publish-token:{token}` STRING, a publisher's idempotency fence (in the same slot as
                                               the streams its script writes)
- `{prefix}:{<name>:<version>}:lease`          STRING, the token `<replica>:<epoch>` of the exporter replica that
                                               judges this version, TTL the lease TTL (exporter.leases)
- `{prefix}:{<name>:<version>}:lease-epoch`    STRING, the version's fencing counter (INCR at each new lease)
- `{prefix}:exporter-replicas`                 ZSET of live exporter replicas, score: when each registration expires
- `{prefix}:scored-by:<name>:<transaction id>` HASH whose fields are the versions that scored the id (service replicas share it
                                               for labels), TTL the samples' retention (bento_service.scored_by_store)

Migration from the keys without a hash tag (`{prefix}:{name}:{version}:...`, before issue 15): they are no longer
read. Deploy the service and the exporter together; the old streams expire with their retention (2 h) and the old
reference with its TTL; the new service republishes its reference at start.

Every stream entry holds a batch, so that reading a window of 10^5-10^6 samples
is a few hundred XRANGE entries of compact binary blobs, not 10^6 hashes:

prediction entry fields:  v ("2"), width (features per row), n, ids (UTF-8, "\\n"-joined), times (float64 n, Unix s),
                          features (float32 n x width, row-major, in the model schema's order; a categorical
                          feature as its code, drift_client.schema), scores (float32 n), and schema (the publisher's
                          ModelSchema.fingerprint(); entries written before it existed lack it and are checked by
                          width only)
                          An entry without `v` (version 1, written before schemas were declared) is malformed:
                          readers skip and count it.
                          Optional, multiclass models (drift_client.tasks): classes (k), probabilities (float32 n x k,
                          row-major: each prediction's class probabilities; the score is the predicted class index)
label entry fields:       n, ids, times (float64 n), labels (uint8 n, 0 or 1), or with `dtype` "f4": labels (float32 n,
                          a regression target or a multiclass class index: drift_client.tasks); readers accept both

The stream entry id is Redis' clock at flush time (ms); windows are cut by it.
Memory stays bounded: every XADD trims the stream with MINID ~ (now - retention)
and MAXLEN ~ max_entries; the reference key carries a TTL refreshed while the service runs.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DEFAULT_PREFIX = "drift"
DEFAULT_RETENTION_SECONDS = 7200.0  # the monitoring policy's default (contracts/policy.py reads it from here)
REFERENCE_TTL_SECONDS = 7 * 24 * 3600


class MalformedEntry(ValueError):
    """A stream entry that cannot be decoded; readers skip and count it."""


class SchemaMismatch(MalformedEntry):
    """A prediction batch published with another schema than its model version's profile: refused, counted by
    `reason` ("width": rows of another width; "fingerprint": the same width, another schema)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class Keys:
    """The Redis keys of one model version."""

    model_name: str
    model_version: str
    prefix: str = DEFAULT_PREFIX

    @property
    def base(self) -> str:
        """The keys' common start, with the model version's hash tag (one Redis Cluster slot per model version)."""
        return f"{self.prefix}:{{{self.model_name}:{self.model_version}}}"

    def profile(self, minute: int) -> str:
        """The profile of one minute (Unix minutes)."""
        return f"{self.base}:profile:{minute}"

    @property
    def profiled(self) -> str:
        """The id of the last stream entry counted into the profiles."""
        return f"{self.base}:profiled"

    def publish_token(self, token: str) -> str:
        """A publisher's idempotency fence, in the slot of the streams it guards."""
        return f"{self.base}:publish-token:{token}"

    @property
    def reference(self) -> str:
        return f"{self.base}:reference"

    @property
    def lease(self) -> str:
        """Which exporter replica judges this version (its token), in the slot of the profiles it fences."""
        return f"{self.base}:lease"

    @property
    def lease_epoch(self) -> str:
        """The fencing counter: every new lease of this version gets the next number."""
        return f"{self.base}:lease-epoch"

    @property
    def predictions(self) -> str:
        return f"{self.base}:predictions"

    @property
    def labels(self) -> str:
        return f"{self.base}:labels"

    @property
    def member(self) -> str:
        """This model's member in the models set."""
        return f"{self.model_name}/{self.model_version}"

    @classmethod
    def from_member(cls, member: str | bytes, prefix: str = DEFAULT_PREFIX) -> "Keys":
        text = member.decode() if isinstance(member, bytes) else member
        name, sep, version = text.partition("/")
        if not sep or not name or not version:
            raise MalformedEntry(f"bad model member {text!r}")
        return cls(name, version, prefix)


def models_key(prefix: str = DEFAULT_PREFIX) -> str:
    return f"{prefix}:models"


def scored_by_key(model_name: str, transaction_id: str, prefix: str = DEFAULT_PREFIX) -> str:
    """Which versions scored a transaction id (no hash tag: ids spread over a cluster's slots)."""
    return f"{prefix}:scored-by:{model_name}:{transaction_id}"


def replicas_key(prefix: str = DEFAULT_PREFIX) -> str:
    """The live exporter replicas (a sorted set scored by when each registration expires)."""
    return f"{prefix}:exporter-replicas"


@dataclass
class PredictionBatch:
    ids: list[str]
    times: np.ndarray  # float64 (n,)
    features: np.ndarray  # float32 (n, 12)
    scores: np.ndarray  # float32 (n,)
    probabilities: np.ndarray | None = None  # float32 (n, classes): a multiclass model's class probabilities

    def __len__(self) -> int:
        return len(self.ids)


@dataclass
class LabelBatch:
    ids: list[str]
    times: np.ndarray  # float64 (n,)
    labels: np.ndarray  # uint8 (n,) 0/1, or float32 (n,) for regression targets and class indices

    def __len__(self) -> int:
        return len(self.ids)


def _join_ids(ids: list[str]) -> bytes:
    return "\n".join(ids).encode()


def _field(fields: dict, name: str) -> bytes:
    value = fields.get(name.encode(), fields.get(name))
    if value is None:
        raise MalformedEntry(f"missing field {name!r}")
    return value if isinstance(value, bytes) else str(value).encode()


def _array(fields: dict, name: str, dtype: str, n: int, width: int = 1) -> np.ndarray:
    raw = _field(fields, name)
    expected = n * width * np.dtype(dtype).itemsize
    if len(raw) != expected:
        raise MalformedEntry(f"field {name!r} has {len(raw)} bytes, expected {expected}")
    array = np.frombuffer(raw, dtype=dtype)
    return array.reshape(n, width) if width > 1 else array


def _ids_and_count(fields: dict) -> tuple[list[str], int]:
    try:
        n = int(_field(fields, "n"))
    except ValueError as exc:
        raise MalformedEntry("field 'n' is not an integer") from exc
    ids = _field(fields, "ids").decode(errors="replace").split("\n") if n else []
    if len(ids) != n:
        raise MalformedEntry(f"{len(ids)} ids for n={n}")
    return ids, n


FORMAT_VERSION = 2


def encode_predictions(batch: PredictionBatch, schema: str = "") -> dict[str, bytes]:
    """The stream entry of a batch; `schema` is the publisher's schema fingerprint (ModelSchema.fingerprint())."""
    features = np.asarray(batch.features).reshape(len(batch), -1)
    extra = {"schema": schema.encode()} if schema else {}
    if batch.probabilities is not None:
        probabilities = np.asarray(batch.probabilities).reshape(len(batch), -1)
        extra.update({"classes": str(probabilities.shape[1]).encode(),
                      "probabilities": np.ascontiguousarray(probabilities, dtype="<f4").tobytes()})
    return {**extra,
        "v": str(FORMAT_VERSION).encode(),
        "width": str(features.shape[1]).encode(),
        "n": str(len(batch)).encode(),
        "ids": _join_ids(batch.ids),
        "times": np.ascontiguousarray(batch.times, dtype="<f8").tobytes(),
        "features": np.ascontiguousarray(features, dtype="<f4").tobytes(),
        "scores": np.ascontiguousarray(batch.scores, dtype="<f4").tobytes(),
    }


def decode_predictions(fields: dict, width: int | None = None, fingerprint: str | None = None) -> PredictionBatch:
    """Decode a predictions stream entry; raises MalformedEntry if it is not one of this format's version,
    SchemaMismatch if its rows are not `width` features wide or it carries another schema fingerprint than
    `fingerprint` (a batch that does not match its model's schema)."""
    ids, n = _ids_and_count(fields)
    if _field(fields, "v") != str(FORMAT_VERSION).encode():
        raise MalformedEntry(f"field 'v' is not {FORMAT_VERSION} (an entry of an older or newer format)")
    entry_width = _int_field(fields, "width")
    if width is not None and entry_width != width:
        raise SchemaMismatch("width", f"rows are {entry_width} features wide, the model's schema has {width}")
    published = fields.get(b"schema", fields.get("schema"))
    if fingerprint and published is not None:
        published = published.decode(errors="replace") if isinstance(published, bytes) else str(published)
        if published != fingerprint:
            raise SchemaMismatch("fingerprint", f"published with schema {published}, the profile's is {fingerprint}")
    return PredictionBatch(
        ids=ids,
        times=_array(fields, "times", "<f8", n),
        features=_array(fields, "features", "<f4", n, entry_width).reshape(n, entry_width),
        scores=_array(fields, "scores", "<f4", n),
        probabilities=_probabilities(fields, n),
    )


def _probabilities(fields: dict, n: int) -> np.ndarray | None:
    if fields.get(b"classes", fields.get("classes")) is None:
        return None
    k = _int_field(fields, "classes")
    return _array(fields, "probabilities", "<f4", n, k).reshape(n, k)


def _int_field(fields: dict, name: str) -> int:
    try:
        value = int(_field(fields, name))
    except ValueError as exc:
        raise MalformedEntry(f"field {name!r} is not an integer") from exc
    if value < 1:
        raise MalformedEntry(f"field {name!r} must be positive")
    return value


def encode_labels(batch: LabelBatch) -> dict[str, bytes]:
    """Float labels (regression, multiclass) travel as float32 with `dtype` "f4"; 0/1 labels as uint8, as before."""
    floats = np.asarray(batch.labels).dtype.kind == "f"
    fields = {
        "n": str(len(batch)).encode(),
        "ids": _join_ids(batch.ids),
        "times": np.ascontiguousarray(batch.times, dtype="<f8").tobytes(),
        "labels": np.ascontiguousarray(batch.labels, dtype="<f4" if floats else "u1").tobytes(),
    }
    if floats:
        fields["dtype"] = FLOAT_LABELS
    return fields


FLOAT_LABELS = b"f4"


def decode_labels(fields: dict) -> LabelBatch:
    """Decode a labels stream entry; raises MalformedEntry if it is not one."""
    ids, n = _ids_and_count(fields)
    kind = fields.get(b"dtype", fields.get("dtype"))
    if kind is not None:
        if (kind if isinstance(kind, bytes) else str(kind).encode()) != FLOAT_LABELS:
            raise MalformedEntry(f"labels dtype {kind!r} is not {FLOAT_LABELS.decode()!r}")
        labels = _array(fields, "labels", "<f4", n)
        if n and not np.isfinite(labels).all():
            raise MalformedEntry("labels must be finite numbers")
        return LabelBatch(ids=ids, times=_array(fields, "times", "<f8", n), labels=labels)
    labels = _array(fields, "labels", "u1", n)
    if n and labels.max() > 1:
        raise MalformedEntry("labels must be 0 or 1")
    return LabelBatch(ids=ids, times=_array(fields, "times", "<f8", n), labels=labels)


def entry_time_seconds(entry_id: bytes | str) -> float:
    """Redis' clock (s) at which a stream entry was added, read from its id."""
    text = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
    return int(text.split("-", 1)[0]) / 1000.0


def stream_id_at(seconds: float) -> str:
    """The smallest stream id at or after `seconds` (for XRANGE and MINID)."""
    return f"{int(seconds * 1000)}-0"
