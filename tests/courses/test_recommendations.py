"""Reviews, audits and Section 11 findings: their recommendations, the training linked to them, the
history of every change, the L&D team's screens and what course pages say (issue 17)."""
from __future__ import annotations

from datetime import date, datetime

import pytest

from app.courses.models import (
    CANCELLED,
    IN_PROGRESS,
    SECTION_11,
    SERIOUS_CASE_REVIEW,
    LearningSource,
    LearningSourceEvent,
    Recommendation,
)
from app.courses.problems import CourseError
from app.courses.queries import public_recommendations_of
from app.courses.recommendations import (
    SourceDetails,
    add_recommendation,
    create_source,
    link_training,
    update_recommendation,
    update_source,
)
from app.extensions import db
from app.privacy.erasure import erase_person
from app.privacy.subject_access import subject_access
from tests.courses.test_views import text_of


@pytest.fixture
def child_r(app, now, admin):
    source = create_source(SourceDetails(SERIOUS_CASE_REVIEW, "Child R", date(2026, 11, 2), "Neglect of a baby."),
                           admin)
    db.session.commit()
    return source


def _history(source) -> list[tuple[str, int | None, str]]:
    return [(e.action, e.recommendation_number, e.detail) for e in
            db.session.query(LearningSourceEvent).filter_by(source_id=source.id).order_by(LearningSourceEvent.id)]


def test_recommendations_are_numbered_once_and_every_change_is_in_the_history(child_r, admin, make_course,
                                                                              make_session):
    first = add_recommendation(child_r, 1, "  Share chronologies with schools.  ", admin)
    with pytest.raises(CourseError) as refused:
        add_recommendation(child_r, 1, "Another", admin)
    assert refused.value.field == "number" and "already has a recommendation 1" in refused.value.message
    with pytest.raises(CourseError) as refused:
        add_recommendation(child_r, None, "", admin, status="nonsense")
    assert {f for f, _ in refused.value.problems} == {"number", "text", "status"}
    course = make_course("Learning from Child R", "SCR-R")
    session = make_session(course, datetime(2027, 2, 2, 9, 30))
    update_recommendation(first, 3, first.text, IN_PROGRESS, admin)
    link_training(first, [course], [session], admin)
    link_training(first, [course], [], admin)
    db.session.commit()
    assert first.text == "Share chronologies with schools." and first.number == 3
    assert _history(child_r) == [
        ("recorded", None, "Serious case review: Child R"),
        ("recommendation added", 1, "Share chronologies with schools."),
        ("recommendation changed", 3, "number was 1; status Open to In progress"),
        ("training linked", 3, "course Learning from Child R linked; session Learning from Child R, "
                               "2 February 2027, 9:30am linked"),
        ("training linked", 3, "session Learning from Child R, 2 February 2027, 9:30am unlinked"),
    ]
    assert [e.actor_id for e in child_r.events] == [admin.id] * 5


def test_a_source_needs_a_kind_a_title_of_its_own_and_no_publication_date_to_come(child_r, admin, now):
    with pytest.raises(CourseError) as refused:
        create_source(SourceDetails("gossip", " child r ", date(2099, 1, 1)), admin)
    assert {f for f, _ in refused.value.problems} == {"kind", "title", "published_on"}
    assert db.session.query(LearningSource).count() == 1
    update_source(child_r, SourceDetails(SERIOUS_CASE_REVIEW, "Child R", None, "Neglect of a baby."), admin)
    db.session.commit()
    assert _history(child_r)[-1] == ("changed", None, "published was 2 November 2026")


def test_a_cancelled_session_answers_nothing(child_r, admin, make_course, make_session):
    recommendation = add_recommendation(child_r, 1, "Escalate missed appointments.", admin)
    db.session.commit()
    cancelled = make_session(make_course(), datetime(2027, 2, 2, 9, 30), status=CANCELLED)
    with pytest.raises(CourseError) as refused:
        link_training(recommendation, [], [cancelled], admin)
    assert refused.value.field == "session_ids"


def test_course_and_session_pages_name_only_published_sources(client, child_r, admin, make_course, make_session):
    course = make_course("Learning from Child R", "SCR-R")
    session = make_session(course, datetime(2027, 2, 2, 9, 30))
    other = make_session(make_course("Safeguarding Level 3", "L3"), datetime(2027, 2, 9, 9, 30))
    rec = add_recommendation(child_r, 3, "Share chronologies with schools.", admin)
    link_training(rec, [course], [other], admin)
    draft = create_source(SourceDetails(SECTION_11, "Section 11 audit 2026"), admin)
    link_training(add_recommendation(draft, 1, "Check DBS renewals.", admin), [course], [], admin)
    db.session.commit()
    assert public_recommendations_of(course) == [rec]
    for url in ("/courses/SCR-R", f"/sessions/{session.id}", f"/sessions/{other.id}"):
        page = text_of(client.get(url))
        assert "This training answers recommendation 3 of Child R (serious case review, published November " \
               "2026): Share chronologies with schools." in page, url
        assert "Section 11 audit 2026" not in page and "DBS" not in page, url
    assert "Child R" not in text_of(client.get("/courses/L3"))  # its one session answers it, not the course


def test_the_l_and_d_team_record_a_source_and_its_recommendations_through_the_screens(
        client, login_as, admin, make_course, make_session, now):
    course = make_course("Learning from Child R", "SCR-R")
    session = make_session(course, datetime(2027, 2, 2, 9, 30))
    login_as(admin)
    assert "Reviews, audits and their recommendations" in client.get("/admin/").get_data(as_text=True)
    refused = client.post("/admin/learning-sources/new", data={
        "kind": "scr", "title": "", "published_on": ["31", "2", "2026"], "summary": ""})
    assert refused.status_code == 200
    assert "Enter the source’s title" in refused.get_data(as_text=True)
    assert "Enter a real date" in refused.get_data(as_text=True)
    response = client.post("/admin/learning-sources/new", data={
        "kind": "scr", "title": "Child R", "published_on": ["2", "11", "2026"], "summary": "Neglect."})
    source = db.session.query(LearningSource).one()
    assert response.headers["Location"].endswith(f"/admin/learning-sources/{source.id}")
    page = client.get(f"/admin/learning-sources/{source.id}/recommendations/new")
    assert 'value="1"' in page.get_data(as_text=True)  # the next number
    bad = client.post(f"/admin/learning-sources/{source.id}/recommendations/new",
                      data={"number": "one", "text": "Share chronologies.", "status": "open"})
    assert bad.status_code == 200 and "The number must be a whole number" in bad.get_data(as_text=True)
    client.post(f"/admin/learning-sources/{source.id}/recommendations/new",
                data={"number": "1", "text": "Share chronologies.", "status": "open"})
    rec = db.session.query(Recommendation).one()
    response = client.post(f"/admin/recommendations/{rec.id}/training",
                           data={"course_ids": [str(course.id)], "session_ids": [str(session.id)]})
    assert response.status_code == 302
    db.session.expire_all()
    assert [c.id for c in rec.courses] == [course.id] and [s.id for s in rec.sessions] == [session.id]
    # A choice that is not on the page (gone since it was drawn) is ignored, as on every programme form.
    unknown = client.post(f"/admin/recommendations/{rec.id}/training",
                          data={"course_ids": ["999999", str(course.id)]})
    assert unknown.status_code == 302
    db.session.expire_all()
    assert [c.id for c in rec.courses] == [course.id] and rec.sessions == []
    garbled = client.post(f"/admin/recommendations/{rec.id}/training", data={"session_ids": ["x"]})
    assert garbled.status_code == 200 and "govuk-error-summary" in garbled.get_data(as_text=True)
    db.session.expire_all()
    assert [c.id for c in rec.courses] == [course.id]  # nothing changed
    page = text_of(client.get(f"/admin/learning-sources/{source.id}"))
    assert "Share chronologies." in page and "Learning from Child R (every session)" in page
    assert "Adaeze Admin" in page and "Training linked" in page  # the history says who
    assert client.get("/admin/recommendations/999999").status_code == 404


def test_only_administrators_reach_the_screens(client, login_as, make_user, child_r, admin):
    rec = add_recommendation(child_r, 1, "Share chronologies.", admin)
    db.session.commit()
    login_as(make_user(roles=("reviewer", "coordinator", "trainer")))
    for url in ("/admin/learning-sources", "/admin/learning-sources/new", f"/admin/learning-sources/{child_r.id}",
                f"/admin/learning-sources/{child_r.id}/recommendations/new", f"/admin/recommendations/{rec.id}",
                f"/admin/recommendations/{rec.id}/training"):
        assert client.get(url).status_code == 403, url
    assert client.post(f"/admin/recommendations/{rec.id}", data={
        "number": "2", "text": "Changed", "status": "met"}).status_code == 403
    db.session.expire_all()
    assert rec.number == 1


def test_the_history_is_in_the_actors_subject_access_file_and_survives_their_erasure(child_r, admin, make_user):
    add_recommendation(child_r, 1, "Share chronologies.", admin)
    db.session.commit()
    events = {e.id for e in child_r.events}
    others = subject_access(admin).as_dict()["other_records"]
    assert {tuple(r["key"])[0] for r in others if r["table"] == "learning_source_events"} == events
    erase_person(admin, actor=make_user(roles=("admin",)))
    db.session.commit()
    db.session.expire_all()
    # The history keeps what was done and when; who did it is now the anonymous row.
    assert [(e.action, e.actor.name) for e in child_r.events] == [
        ("recorded", "Erased person"), ("recommendation added", "Erased person")]
