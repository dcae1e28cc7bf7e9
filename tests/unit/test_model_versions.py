"""The versions document: validation naming the field, promotion and rollback, sticky A/B assignment."""
from __future__ import annotations

import math

import numpy as np
import pytest

from contracts.model_versions import InvalidVersions, VersionsState, answers_challenger

BASE = VersionsState(champion="v1", available=("v1", "v2", "v3"))


def test_a_challenger_in_shadow():
    state = BASE.apply({"challenger": "v2", "mode": "shadow"})
    assert state.to_api() == {"champion": "v1", "challenger": "v2", "mode": "shadow", "ab_share": 0.0,
                              "available": ["v1", "v2", "v3"]}
    assert state.revision == BASE.revision + 1


@pytest.mark.parametrize("changes, field", [
    ({"champion": "v9"}, "champion"),
    ({"challenger": "nope", "mode": "shadow"}, "challenger"),
    ({"challenger": "v1", "mode": "shadow"}, "challenger"),
    ({"mode": "shadow"}, "mode"),
    ({"mode": "canary"}, "mode"),
    ({"ab_share": 1.5}, "ab_share"),
    ({"ab_share": -0.1}, "ab_share"),
    ({"ab_share": True}, "ab_share"),
    ({"ab_share": "0.5"}, "ab_share"),
    ({"ab_share": math.nan}, "ab_share"),
    ({"available": ["v7"]}, "available"),
    ({"colour": "red"}, "colour"),
    ({"champion": 3}, "champion"),
])
def test_bad_changes_name_the_field(changes, field):
    with pytest.raises(InvalidVersions) as error:
        BASE.apply(changes)
    assert error.value.field == field and field in str(error.value)


def test_a_body_that_is_not_an_object_is_refused():
    with pytest.raises(InvalidVersions, match="body"):
        BASE.apply(["champion"])


def test_removing_the_challenger_turns_the_mode_off():
    state = BASE.apply({"challenger": "v2", "mode": "ab", "ab_share": 0.2}).apply({"challenger": None})
    assert state.mode == "off" and state.challenger is None


def test_promotion_keeps_the_old_champion_for_a_one_step_rollback():
    state = BASE.apply({"challenger": "v2", "mode": "shadow"}).promote()
    assert (state.champion, state.challenger, state.mode, state.previous_champion) == ("v2", None, "off", "v1")
    back = state.rollback()
    assert (back.champion, back.previous_champion) == ("v1", None) and "v2" in back.available
    with pytest.raises(InvalidVersions, match="previous_champion"):
        back.rollback()
    with pytest.raises(InvalidVersions, match="challenger"):
        BASE.promote()


def test_json_round_trip():
    state = BASE.apply({"challenger": "v3", "mode": "ab", "ab_share": 0.25}).promote()
    assert VersionsState.from_json(state.to_json()) == state


def test_ab_assignment_is_sticky_and_matches_the_share():
    ids = [f"txn-{i}" for i in range(100_000)]
    chosen = np.array([answers_challenger(t, 0.3) for t in ids])
    assert abs(chosen.mean() - 0.3) < 0.005  # binomial sd 0.0014
    assert [answers_challenger(t, 0.3) for t in ids[:100]] == chosen[:100].tolist()
    assert not any(answers_challenger(t, 0.0) for t in ids[:1000])
    assert all(answers_challenger(t, 1.0) for t in ids[:1000])
    # a larger share keeps every transaction the smaller share sent to the challenger (monotone)
    assert all(answers_challenger(t, 0.5) for t, c in zip(ids[:5000], chosen[:5000]) if c)
