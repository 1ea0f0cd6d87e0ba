"""A trainer's own evaluation results: the reviewers' figures for one session they trained, with the
same small-number rule, and never another trainer's session."""
from __future__ import annotations

import pytest

from app.extensions import db
from tests.evaluation.test_small_numbers import HIDDEN, _numbers, _table, groups  # noqa: F401  (groups: a fixture)


@pytest.fixture
def trainers(groups, make_user):  # noqa: F811  (the fixture imported above)
    mine = make_user(name="Alex Trainer", roles=("trainer",))
    theirs = make_user(name="Olu Othertrainer", roles=("trainer",))
    groups["four"].trainers = [mine]
    groups["five"].trainers = [mine]
    groups["mixed"].trainers = [theirs]
    db.session.commit()
    return mine, theirs


def test_a_trainer_sees_the_figures_of_their_own_sessions_under_the_small_number_rule(
        client, groups, trainers, login_as):  # noqa: F811
    mine, _theirs = trainers
    login_as(mine)
    listed = client.get("/evaluation/my-sessions").get_data(as_text=True)
    assert "Prevent" in listed and "Neglect" in listed and "Safeguarding Level 3" not in listed
    four = client.get(f"/evaluation/my-sessions/{groups['four'].id}").get_data(as_text=True)
    assert HIDDEN in _table(four, "responses") and _numbers(_table(four, "responses")) == []
    assert _numbers(_table(four, "means")) == []
    five = client.get(f"/evaluation/my-sessions/{groups['five'].id}").get_data(as_text=True)
    assert _numbers(_table(five, "responses"))[:2] == ["5", "5"]
    assert "Plan of booking" not in five  # written answers are not shown to trainers


def test_never_another_trainers_session(client, groups, trainers, login_as, make_user):  # noqa: F811
    mine, theirs = trainers
    login_as(mine)
    assert client.get(f"/evaluation/my-sessions/{groups['mixed'].id}").status_code == 404
    assert client.get("/evaluation/my-sessions/99999").status_code == 404
    client.post("/sign-out")
    login_as(make_user(name="Lee Learner"))
    assert client.get(f"/evaluation/my-sessions/{groups['four'].id}").status_code == 403
