"""Needs proposals: a coordinator proposes their agency's figures for an analysis; the L&D team
accepts them as proposed or edited, which sets the agency's lines; the history keeps both."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.reports.errors import ReportsError
from app.reports.models import ACCEPTED, PENDING, WITHDRAWN, NeedsProposal, TnaLine
from app.reports.proposals import accept_proposal, propose_needs
from tests.reports.conftest import NOW
from tests.security import page_without_nonce


@pytest.fixture
def world(app, set_now, make_agency, make_user, make_level, make_course, make_tna):
    set_now(NOW)
    homes = make_agency("Northbridge Homes", sector="Housing")
    police = make_agency("Riverside Police", sector="Police")
    level3 = make_level("Level 3")
    scr = make_course("Serious Case Review workshop", code="SCR")
    tna = make_tna([(homes.sector, None, None, level3, 200, 80), (homes.sector, None, scr, None, 200, 20),
                    (police.sector, None, None, level3, 500, 100)])
    db.session.commit()
    return {
        "homes": homes, "police": police, "level3": level3, "scr": scr, "tna": tna,
        "coordinator": make_user(name="Chidi Coordinator", agency=homes, roles=("coordinator",)),
        "police_coordinator": make_user(name="Olu Other", agency=police, roles=("coordinator",)),
        "admin": make_user(name="Ada Admin", roles=("admin",)),
    }


def _keys(world):
    return f"l{world['level3'].id}", f"c{world['scr'].id}"


def test_a_coordinator_proposes_and_the_l_and_d_team_accepts_with_changes(world, client, login_as):
    level_key, scr_key = _keys(world)
    login_as(world["coordinator"])
    page = page_without_nonce(client.get("/agency/needs"))
    assert "How many need Any Level 3 course" in page and "How many need Serious Case Review workshop" in page
    response = client.post(f"/agency/needs?tna={world['tna'].id}", data={
        "staff_in_scope": "40", f"needed-{level_key}": "30", f"needed-{scr_key}": "5", "note": "New team"})
    assert response.status_code == 302
    proposal = db.session.scalar(select(NeedsProposal))
    assert (proposal.agency_id, proposal.staff_in_scope, proposal.status, proposal.note) == \
        (world["homes"].id, 40, PENDING, "New team")
    assert sorted(l.needed for l in proposal.lines) == [5, 30]
    assert db.session.scalar(select(TnaLine).where(TnaLine.agency_id == world["homes"].id)) is None
    # Coordinators do not decide.
    assert client.get(f"/reports/needs/proposals/{proposal.id}").status_code == 403

    client.post("/sign-out")
    login_as(world["admin"])
    assert f'href="/reports/needs/proposals/{proposal.id}">Northbridge Homes</a>' in \
        page_without_nonce(client.get("/reports/needs/proposals"))
    page = page_without_nonce(client.get(f"/reports/needs/proposals/{proposal.id}"))
    assert "Proposed: 30" in page and "New team" in page
    response = client.post(f"/reports/needs/proposals/{proposal.id}", data={
        "staff_in_scope": "42", f"needed-{level_key}": "35", f"needed-{scr_key}": "5"})
    assert response.status_code == 302
    db.session.expire_all()
    proposal = db.session.get(NeedsProposal, proposal.id)
    assert (proposal.status, proposal.accepted_staff_in_scope, proposal.decided_by_id) == \
        (ACCEPTED, 42, world["admin"].id)
    assert {l.training_key: (l.needed, l.accepted_needed) for l in proposal.lines} == {
        level_key: (30, 35), scr_key: (5, 5)}
    lines = db.session.scalars(select(TnaLine).where(TnaLine.agency_id == world["homes"].id)).all()
    assert sorted((l.level_id is not None, l.staff_in_scope, l.needed) for l in lines) == [(False, 42, 5), (True, 42, 35)]
    # Decided once: a second decision changes nothing.
    assert client.post(f"/reports/needs/proposals/{proposal.id}", data={
        "staff_in_scope": "1", f"needed-{level_key}": "1", f"needed-{scr_key}": "1"}).status_code == 200
    assert db.session.get(NeedsProposal, proposal.id).accepted_staff_in_scope == 42

    client.post("/sign-out")
    login_as(world["coordinator"])
    page = page_without_nonce(client.get(f"/agency/needs?tna={world['tna'].id}"))
    assert "Accepted" in page and 'value="42"' in page, "the form starts from the accepted figures"


@pytest.mark.parametrize("data, message", [
    ({"staff_in_scope": ""}, "Enter the number of staff in scope"),
    ({"staff_in_scope": "ten"}, "The staff in scope must be a whole number"),
    ({"needed-LEVEL": ""}, "Enter how many need Any Level 3 course"),
    ({"needed-LEVEL": "50"}, "The number who need Any Level 3 course (50) is more than the staff in scope (40)"),
])
def test_bad_figures_are_refused_beside_their_box_and_change_nothing(world, client, login_as, data, message):
    level_key, scr_key = _keys(world)
    login_as(world["coordinator"])
    form = {"staff_in_scope": "40", f"needed-{level_key}": "30", f"needed-{scr_key}": "5"}
    form.update({k.replace("LEVEL", level_key): v for k, v in data.items()})
    response = client.post(f"/agency/needs?tna={world['tna'].id}", data=form)
    assert response.status_code == 200 and message in page_without_nonce(response)
    assert db.session.scalar(select(NeedsProposal.id)) is None


def test_coordinators_act_only_for_their_own_agency(world, client, login_as):
    level_key, scr_key = _keys(world)
    with pytest.raises(ReportsError, match="You do not coordinate Northbridge Homes"):
        propose_needs(world["tna"], world["homes"], 10, {level_key: 1, scr_key: 1}, "", world["police_coordinator"])
    db.session.rollback()
    mine = propose_needs(world["tna"], world["homes"], 10, {level_key: 1, scr_key: 1}, "", world["coordinator"])
    db.session.commit()
    login_as(world["police_coordinator"])
    page = page_without_nonce(client.get(f"/agency/needs?tna={world['tna'].id}"))
    assert "Riverside Police" in page and "Northbridge Homes" not in page
    assert "Serious Case Review workshop" not in page, "only the trainings of their own sector"
    assert client.get(f"/agency/needs?agency_id={world['homes'].id}").status_code == 200
    assert "Northbridge Homes" not in page_without_nonce(client.get(f"/agency/needs?agency_id={world['homes'].id}"))
    assert client.get("/reports/needs/proposals").status_code == 403
    with pytest.raises(ReportsError, match="Only the L&D team"):
        accept_proposal(mine, 10, {level_key: 1, scr_key: 1}, world["coordinator"])


def test_a_new_proposal_replaces_one_still_waiting(world):
    level_key, scr_key = _keys(world)
    first = propose_needs(world["tna"], world["homes"], 10, {level_key: 1, scr_key: 1}, "", world["coordinator"])
    second = propose_needs(world["tna"], world["homes"], 12, {level_key: 2, scr_key: 1}, "", world["coordinator"])
    db.session.commit()
    assert (first.status, second.status) == (WITHDRAWN, PENDING)
    with pytest.raises(ReportsError, match="already been decided or replaced"):
        accept_proposal(first, 10, {level_key: 1, scr_key: 1}, world["admin"])
