"""The bench's statement counter counts what the app sends to the database, and only while on."""
from sqlalchemy import select, text

from app.accounts.models import User
from app.extensions import db
from bench.statements import StatementCounter


def test_counter_counts_each_statement_while_switched_on(app, make_attendee):
    make_attendee()
    with app.app_context():
        db.session.execute(text("SELECT 1"))  # the transaction is open: nothing else is sent below
        with StatementCounter(db.engine) as counter:
            db.session.execute(text("SELECT 1"))
            db.session.scalars(select(User)).all()
        db.session.execute(text("SELECT 1"))

    assert counter.count == 2
    assert "users" in counter.statements[1]


def test_counter_counts_the_statements_of_a_page(app, client, login_as, make_user):
    login_as(make_user())
    with app.app_context():
        counter = StatementCounter(db.engine)
    with counter:
        response = client.get("/my-bookings")

    assert response.status_code == 200
    assert counter.count > 0
    assert any("bookings" in statement for statement in counter.statements)
