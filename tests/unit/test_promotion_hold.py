"""Automatic promotion waits until the challenger has kept winning for PROMOTION_HOLD_SECONDS (retrain/promotion.py)."""
from __future__ import annotations

import doctest

from retrain import promotion
from retrain.promotion import WinStreak


def test_docstring_examples():
    assert doctest.testmod(promotion).failed == 0


def test_a_win_must_hold_without_a_break_per_model_and_challenger():
    streak = WinStreak(hold_seconds=6)
    assert not streak.ready("fraud", "v2", True, now=0)
    assert not streak.ready("login", "w2", True, now=3)  # another model's streak is its own
    assert not streak.ready("fraud", "v2", True, now=5.9)
    assert streak.ready("fraud", "v2", True, now=6)
    assert not streak.ready("fraud", "v3", True, now=6)  # a new challenger starts its own streak
    assert not streak.ready("login", "w2", False, now=9)  # a check it lost resets it
    assert not streak.ready("login", "w2", True, now=10) and streak.ready("login", "w2", True, now=16)
