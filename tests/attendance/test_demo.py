"""The demo step marks past registers when there are bookings, and does nothing when there are none."""
import random
from datetime import datetime

from sqlalchemy import select

from app.attendance.demo import mark_past_registers
from app.attendance.models import CHARGE_WAIVED, Charge
from app.bookings.models import Booking
from app.extensions import db
from tests.attendance.conftest import COURSE, ROOM, at_london


def test_demo_marks_past_sessions_with_a_walk_in_and_a_waived_charge(
        app, make_user, make_agency, make_session, make_course, make_booking, set_now):
    make_user(name="Adaeze Fairweather", roles=("admin",))
    trainer = make_user(name="Tara Pendleford", roles=("trainer",))
    agency = make_agency()
    people = [make_user(agency=agency) for _ in range(30)]
    set_now(at_london(datetime(2027, 6, 1, 9, 0)))
    assert mark_past_registers(random.Random(1)) == "attendance: no past sessions with confirmed bookings to mark"

    past = make_session(trainers=[trainer], starts_at=at_london(datetime(2027, 3, 3, 9, 30)),
                        course=make_course(**COURSE), **ROOM)
    future = make_session(trainers=[trainer], starts_at=at_london(datetime(2027, 7, 7, 9, 30)),
                          course=make_course(**COURSE), **ROOM)
    for person in people[:25]:
        make_booking(past, person)
    make_booking(future, people[0])
    summary = mark_past_registers(random.Random(7))
    db.session.commit()

    past_bookings = db.session.scalars(select(Booking).where(Booking.session_id == past.id)).all()
    assert all(b.outcome for b in past_bookings)
    assert sum(b.walk_in for b in past_bookings) == 1 and len(past_bookings) == 26
    assert db.session.scalars(select(Booking).where(Booking.session_id == future.id)).one().outcome is None
    charges = db.session.scalars(select(Charge)).all()
    assert charges and [c.status for c in charges].count(CHARGE_WAIVED) == 1
    assert summary.startswith("attendance: 25 marked, 1 walk-in") and "(1 waived)" in summary


def test_the_full_demo_suspends_no_named_login_queues_no_mail_and_gives_fitting_job_titles(app):
    from app.attendance.models import Suspension
    from app.accounts.models import AccountEvent, User
    from app.attendance.completion_import import OPENED_FROM_EXPORT
    from app.bookings.models import DID_NOT_ATTEND, TURNED_AWAY
    from app.demo import DEMO_LOGINS, JOB_TITLES, load_demo
    from app.email import OutboxMessage

    load_demo()
    db.session.commit()
    named = {p.email: p for p in db.session.scalars(select(User))
             if p.email.split("@")[0] in {local for local, *_ in DEMO_LOGINS}}
    assert len(named) == len(DEMO_LOGINS)
    suspended = {s.user_id for s in db.session.scalars(select(Suspension))}
    assert suspended, "the demo still shows suspensions of other people"
    assert not suspended & {p.id for p in named.values()}
    no_shows = db.session.scalars(select(Booking).where(
        Booking.user_id.in_([p.id for p in named.values()]), Booking.outcome.in_([DID_NOT_ATTEND, TURNED_AWAY]))).all()
    assert no_shows == []
    trainer = named["trainer@northbridge-council.example"]
    own = db.session.scalars(select(Booking).where(Booking.user_id == trainer.id)).all()
    assert not any(trainer in b.session.trainers for b in own), "the trainer books none of her own sessions"
    assert db.session.scalars(select(OutboxMessage)).all() == [], "nothing is mailed to invented people"
    # Accounts the e-learning export opened have no job title: the provider's export gives none.
    from_export = set(db.session.scalars(select(AccountEvent.user_id).where(
        AccountEvent.action == "registered", AccountEvent.detail == OPENED_FROM_EXPORT)))
    assert len(from_export) == 8
    assert all(p.job_title == "" and p.password_hash is None
               for p in db.session.scalars(select(User).where(User.id.in_(from_export))))
    crowd = [p for p in db.session.scalars(select(User)) if p.email not in named and p.id not in from_export]
    assert all(p.job_title in JOB_TITLES[p.agency.sector.name] for p in crowd)
    gp = [p for p in crowd if p.agency.name == "Canal Side Surgery"]
    assert gp and not any(p.job_title == "Police constable" for p in gp)
