"""Coordinators see their own staff's unanswered evaluations on the agency page, and no one else's."""
from datetime import timedelta

from app.bookings.models import ATTENDED
from app.evaluation.queries import outstanding_evaluations
from app.evaluation.sending import send_due_evaluations
from app.extensions import db
from tests.evaluation.conftest import SESSION_END, answer_by_key


def test_agency_page_lists_open_unanswered_evaluations_of_its_own_staff(
        app, question_sets, make_session, make_booking, make_attendee, make_agency, make_user,
        login_as, set_now):
    school = make_agency(name="Hillcrest Primary School", sector="Education - schools")
    police = make_agency(name="North Area Police", sector="Police")
    session = make_session(ends_at=SESSION_END, hours=7, venue=None)
    waiting = make_booking(session, make_attendee(name="Amara Jephcott", agency=school), outcome=ATTENDED, history=True)
    answered = make_booking(session, make_attendee(name="Ben Kettlewell", agency=school), outcome=ATTENDED,
                            history=True)
    make_booking(session, make_attendee(name="Olu Wetherall", agency=police), outcome=ATTENDED, history=True)
    set_now(SESSION_END + timedelta(hours=1))
    send_due_evaluations()
    db.session.commit()
    answer_by_key(next(iter(_invitations(answered))))
    db.session.commit()

    assert [i.user.name for i in outstanding_evaluations(school.id)] == ["Amara Jephcott"]

    coordinator = make_user(roles=("coordinator",), agency=school)
    page = login_as(coordinator).get("/agency").get_data(as_text=True)
    assert "Evaluations not yet answered" in page
    assert "Amara Jephcott" in page and "First (after the course)" in page
    assert "Olu Wetherall" not in page

    set_now(SESSION_END + timedelta(days=40))  # the link has closed: nothing left to chase
    assert outstanding_evaluations(school.id) == []
    assert waiting.id


def _invitations(booking):
    from sqlalchemy import select

    from app.evaluation.models import Invitation

    return db.session.scalars(select(Invitation).where(Invitation.booking_id == booking.id))
