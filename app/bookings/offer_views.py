"""The page an offered place's e-mailed links open: accept the place or let it pass.

It works without signing in (the link is signed and names one offer), like a manager's approval
link; opening it answers nothing, only the button does (link scanners open links).
"""
from __future__ import annotations

from flask import render_template

from app.accounts.access import public
from app.accounts.tokens import LinkError
from app.bookings import bp
from app.bookings.forms import OfferAnswerForm
from app.bookings.offer_links import ACCEPT, booking_for_offer
from app.bookings.offers import accept_offer, decline_offer, offer_problem
from app.refusals import refusals


@bp.route("/offers/<token>", methods=["GET", "POST"])
@public
def offer(token: str):
    try:
        booking, answer = booking_for_offer(token)
    except LinkError as exc:
        return render_template("bookings/offer.html", problem=exc.message, booking=None), 400
    problem = offer_problem(booking)
    form = OfferAnswerForm()
    form.submit.label.text = "Take the place" if answer == ACCEPT else "Let the place pass"
    if problem is None and form.validate_on_submit():
        with refusals(show=False) as attempt:
            booking = (accept_offer if answer == ACCEPT else decline_offer)(booking)
            status = booking.status
        if not attempt.refused:
            return render_template("bookings/offer_done.html", booking=booking, answer=answer, status=status,
                                   accept=ACCEPT)
        problem = attempt.message
    return render_template("bookings/offer.html", booking=booking, answer=answer, accept=ACCEPT, form=form,
                           problem=problem, session=booking.session)
