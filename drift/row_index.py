"""Transaction id -> row of the window, to join late labels to their predictions in 16 bytes per row.

A dict of the window's ids held about 250 bytes of Python objects per prediction (1 GB at 3.6 M). Here ids are
64-bit hashes kept in a few sorted numpy runs, as in a log-structured merge tree: every `add` is a new sorted run,
adjacent runs are merged when the newer one has grown as large as the older (so there are O(log n) of them), and
runs whose rows left the window are dropped or pruned. Rows are numbered in arrival order, so each run covers a
contiguous range of rows and expiring rows is cutting a prefix.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import numpy as np

NOT_FOUND = -1
SORT_QUERIES_ABOVE = 50_000  # sorted queries let searchsorted walk the run in order instead of jumping around it


def id_hashes(ids: Iterable[str]) -> np.ndarray:
    """64-bit hashes of transaction ids (stable within one process, which is all the index needs)."""
    return np.fromiter(map(hash, ids), dtype=np.int64)


@dataclass
class _Run:
    keys: np.ndarray  # int64, sorted
    rows: np.ndarray  # int64, ascending among equal keys
    first_row: int
    last_row: int

    @classmethod
    def build(cls, keys: np.ndarray, rows: np.ndarray) -> "_Run":
        order = np.argsort(keys, kind="stable")
        return cls(keys[order], rows[order], int(rows.min()), int(rows.max()))

    def find(self, keys: np.ndarray) -> np.ndarray:
        """The newest row of each key in this run, or NOT_FOUND."""
        if len(keys) > SORT_QUERIES_ABOVE:
            order = np.argsort(keys)
            found = np.empty(len(keys), np.int64)
            found[order] = self._find(keys[order])
            return found
        return self._find(keys)

    def _find(self, keys: np.ndarray) -> np.ndarray:
        at = np.searchsorted(self.keys, keys, side="right") - 1
        safe = np.maximum(at, 0)
        hit = (at >= 0) & (self.keys[safe] == keys)
        return np.where(hit, self.rows[safe], NOT_FOUND)

    def without_rows_before(self, row: int) -> "_Run":
        keep = self.rows >= row
        return _Run(self.keys[keep], self.rows[keep], max(self.first_row, row), self.last_row)


class RowIndex:
    """Find the newest row that holds a transaction id, among rows not yet expired.

    >>> index = RowIndex()
    >>> index.add(id_hashes(["a", "b"]), first_row=0)
    >>> index.add(id_hashes(["c", "a"]), first_row=2)
    >>> index.find(id_hashes(["a", "b", "z"])).tolist()
    [3, 1, -1]
    >>> index.expire_before(2)
    >>> index.find(id_hashes(["b", "c"])).tolist()
    [-1, 2]
    """

    def __init__(self) -> None:
        self.runs: list[_Run] = []
        self.first_row = 0

    def __len__(self) -> int:
        """Rows held, expired ones not yet pruned included."""
        return sum(len(r.keys) for r in self.runs)

    def add(self, keys: np.ndarray, first_row: int) -> None:
        """Index `keys` as rows first_row, first_row + 1, ... (newer than every row already added)."""
        if len(keys) == 0:
            return
        self.runs.append(_Run.build(keys, np.arange(first_row, first_row + len(keys), dtype=np.int64)))
        while len(self.runs) > 1 and len(self.runs[-2].keys) <= len(self.runs[-1].keys):
            newer = self.runs.pop()
            older = self.runs.pop().without_rows_before(self.first_row)
            self.runs.append(_Run.build(np.concatenate([older.keys, newer.keys]), np.concatenate([older.rows, newer.rows])))

    def find(self, keys: np.ndarray) -> np.ndarray:
        """For each key, the newest live row holding it, or NOT_FOUND (-1)."""
        found = np.full(len(keys), NOT_FOUND, dtype=np.int64)
        for run in reversed(self.runs):
            missing = found == NOT_FOUND
            if not missing.any():
                break
            found[missing] = run.find(keys[missing])
        found[found < self.first_row] = NOT_FOUND
        return found

    def expire_before(self, row: int) -> None:
        """Forget rows below `row`: drop runs wholly before it, prune runs mostly before it."""
        self.first_row = max(self.first_row, row)
        kept = []
        for run in self.runs:
            if run.last_row < self.first_row:
                continue
            expired = self.first_row - run.first_row
            if expired > 0 and 2 * expired > run.last_row - run.first_row + 1:
                run = run.without_rows_before(self.first_row)
            kept.append(run)
        self.runs = kept
