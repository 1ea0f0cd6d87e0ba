"""Issue 6's journey in real Chromium: an attendee follows the e-mailed link and answers the first
evaluation, months later answers the second, and a reviewer sees the confidence shift."""
from __future__ import annotations

import io
import re
from datetime import timedelta

from playwright.sync_api import expect
from pypdf import PdfReader

from app.attendance.outcomes import record_outcome
from app.bookings.models import ATTENDED
from app.evaluation.certificate_gate import certificate_gate
from app.extensions import db
from app.jobs import run_jobs
from tests.e2e.conftest import assert_accessible, sign_in
from tests.evaluation.conftest import (  # noqa: F401  (fixtures used by name)
    SESSION_END,
    question_sets,
)


def _link(mailbox, address: str, index: int = -1) -> str:
    message = mailbox.to(address)[index]
    text = message.get_body(preferencelist=("plain",)).get_content()
    return re.search(r"https?://\S+/evaluation/answer/\S+", text).group(0)


def _choose(page, legend: str, option: str) -> None:
    page.get_by_role("group", name=legend).get_by_label(option, exact=True).check()


OVERLAPPING_CHART_TEXT = """() => {
  const found = []
  for (const svg of document.querySelectorAll('svg.app-chart')) {
    const boxes = [...svg.querySelectorAll('text')].map((t) => [t.textContent, t.getBoundingClientRect()])
    boxes.forEach(([a, r], i) => boxes.slice(i + 1).forEach(([b, s]) => {
      const apart = r.right <= s.left + 0.5 || s.right <= r.left + 0.5 || r.bottom <= s.top + 0.5 || s.bottom <= r.top + 0.5
      if (!apart) found.push(`${a} / ${b}`)
    }))
  }
  return found
}"""


def _assert_chart_labels_apart(page) -> None:
    """No two labels of a chart overlap as Chromium draws them, on screen and in print."""
    for media in ("screen", "print"):
        page.emulate_media(media=media)
        assert page.evaluate(OVERLAPPING_CHART_TEXT) == [], media
    page.emulate_media(media="screen")


def test_attendee_answers_both_stages_and_a_reviewer_sees_the_confidence_shift(
        app, live_server, browser_page, mailbox, question_sets, make_course, make_session, make_booking,
        make_user, make_agency, set_now):
    police = make_agency(name="Metropolitan Police - North Area BCU", sector="Police")
    course = make_course(title="Safeguarding Level 3")
    session = make_session(course, ends_at=SESSION_END, hours=7, venue=None)
    person = make_user(name="Olu Nettleford", email="olu@met-north.police.example", agency=police)
    booking = make_booking(session, person, outcome=None, walk_in=True, history=True)
    record_outcome(booking, ATTENDED, None, "Walk-in, signed the register")  # as the register does
    reviewer = make_user(name="Rhys Quarrington", email="rhys@met-north.police.example",
                         roles=("reviewer",), agency=police)
    db.session.commit()
    page = browser_page

    # The session ends; the scheduled job sends the first evaluation.
    set_now(SESSION_END + timedelta(hours=1))
    run_jobs()
    # The training record says what the certificate waits for, with the way to do it.
    sign_in(page, person.email)
    page.goto("/my-training")
    assert "Answer the evaluation to get your certificate" in page.locator("main").inner_text()
    assert_accessible(page)
    page.get_by_role("link", name="Answer the evaluation").click()
    assert page.locator("h1").inner_text() == "Safeguarding Level 3"
    token = _link(mailbox, person.email).split("/evaluation/answer/")[1]
    assert page.url.endswith(f"/evaluation/answer/{token}"), "the same link as the e-mail's"
    page.goto("/sign-out")
    page.get_by_role("button", name="Sign out").click()

    page.goto(_link(mailbox, person.email))
    assert page.locator("h1").inner_text() == "Safeguarding Level 3"
    assert_accessible(page)

    # Sending it half-answered shows what is missing and keeps what was given.
    _choose(page, "How much did you know about the topic before the course?", "2")
    page.get_by_role("button", name="Send my evaluation").click()
    summary = page.locator(".govuk-error-summary").inner_text()
    assert "Answer “How will you apply this learning? What will you do differently?”" in summary
    assert "Select an answer for “The trainer or trainers”" in summary
    assert page.get_by_role("group", name="How much did you know about the topic before the course?") \
        .get_by_label("2", exact=True).is_checked()
    assert_accessible(page)

    answers = {
        "How much do you know about the topic now, after the course?": "4",
        "How confident were you in this area of your work before the course?": "1 – Not at all confident",
        "How confident are you in this area of your work now, after the course?": "4",
        "The course met its learning outcomes": "5 – Fully",
        "The content of the course": "4",
        "The trainer or trainers": "5 – Excellent",
        "The course materials": "4",
        "The venue or online platform": "3",
        "How relevant the course was to your role": "5 – Highly relevant",
        "Learning alongside other agencies helped me understand their roles": "4",
    }
    for legend, option in answers.items():
        _choose(page, legend, option)
    page.get_by_label("How will you apply this learning? What will you do differently?").fill(
        "Ask health colleagues for the chronology before every strategy meeting.")
    page.get_by_role("button", name="Send my evaluation").click()
    assert "Evaluation sent" in page.locator(".govuk-panel").inner_text()
    assert_accessible(page)
    db.session.rollback()  # end the test's read transaction to see what the server committed
    assert certificate_gate(booking) is None, "the certificate is released"

    # Answering stage 1 released the certificate: the attendee downloads it.
    sign_in(page, person.email)
    page.goto(f"/my-training/certificates/{booking.id}")
    assert_accessible(page)
    with page.expect_download() as download:
        page.get_by_role("button", name="Download the certificate (PDF)").click()
    text = "".join(p.extract_text() for p in PdfReader(download.value.path()).pages)
    assert "Olu Nettleford" in text and "Safeguarding Level 3" in text
    page.goto("/sign-out")
    page.get_by_role("button", name="Sign out").click()

    # The same link again says it has been used.
    page.goto(_link(mailbox, person.email))
    assert page.locator("h1").inner_text() == "You have already sent this evaluation"
    assert_accessible(page)

    # Three months later the second evaluation arrives.
    set_now(SESSION_END + timedelta(days=92))
    run_jobs()
    page.goto(_link(mailbox, person.email))
    assert "Second evaluation" in page.locator(".govuk-caption-l").inner_text()
    assert_accessible(page)
    _choose(page, "Have you used the learning from this course since?", "Yes")
    _choose(page, "How confident are you in this area of your work now?", "4")
    page.get_by_label("Joint working with other agencies").check()
    page.get_by_label("Took a specific action, for example made a referral").check()
    page.get_by_label("Caseload").check()
    page.get_by_label("Give a specific example of how you used it (optional)").fill(
        "Made a referral after a disclosure, with the police present from the start.")
    page.get_by_role("button", name="Send my evaluation").click()
    assert "Evaluation sent" in page.locator(".govuk-panel").inner_text()

    # The learner's own list shows both as sent.
    sign_in(page, person.email)
    page.get_by_role("link", name="My evaluations").click()
    assert "Nothing is waiting for you" in page.locator("main").inner_text()
    assert_accessible(page)
    page.get_by_role("link", name="Sign out").click()
    page.get_by_role("button", name="Sign out").click()

    # One person is too few to show anything about (SMALL_GROUP_MINIMUM, 5).
    sign_in(page, reviewer.email)
    page.get_by_role("link", name="Evaluation", exact=True).click()
    expect(page.locator("h1")).to_have_text("Evaluation results")
    expect(page.locator("[data-figure=confidence-rose]")).to_contain_text(
        "Fewer than 5 people in this selection answered both evaluations")
    assert "fewer than 5" in page.locator("[data-figures=responses]").inner_text()
    assert_accessible(page)
    page.get_by_role("link", name="Written answers").click()
    expect(page.locator("h1")).to_have_text("Written answers")  # the new page, not the one before
    assert "Made a referral after a disclosure" not in page.locator("main").inner_text()
    assert_accessible(page)

    # With every figure shown, a reviewer sees the shift from 1 before the course to 4 months
    # later, without names.
    live_server.app.config["SMALL_GROUP_MINIMUM"] = 1
    page.get_by_role("link", name="Evaluation", exact=True).click()
    expect(page.locator("[data-figure=confidence-rose]")).to_contain_text(
        "Confidence rose for 1 of 1 people (100%)")
    main = page.locator("main").inner_text()
    assert "Olu Nettleford" not in main
    shift = page.locator("[data-figures=shift]").inner_text()
    assert re.search(r"1\s+1\s+0\s+0\s+1\.0\s+4\.0", shift), shift
    assert page.locator("svg[role=img] title").count() == 4
    _assert_chart_labels_apart(page)
    assert_accessible(page)

    page.get_by_role("link", name="Written answers").click()
    assert "Made a referral after a disclosure" in page.locator("main").inner_text()
    assert "Olu Nettleford" not in page.locator("main").inner_text()
    assert_accessible(page)

    page.goto("/evaluation/review/summary?date_from=1&date_from=3&date_from=2027"
              "&date_to=31&date_to=3&date_to=2027")
    assert "Confidence rose for 1 of 1 people" in page.locator("main").inner_text()
    _assert_chart_labels_apart(page)
    assert_accessible(page)


def test_the_l_and_d_team_screens_are_accessible(app, browser_page, mailbox, question_sets,
                                                 make_session, make_booking, make_user, set_now):
    session = make_session(ends_at=SESSION_END, hours=7, venue=None)
    make_booking(session, make_user(name="Grace Gorringe"), outcome=ATTENDED, history=True)
    admin = make_user(email="admin@example.org", roles=("admin",))
    db.session.commit()
    set_now(SESSION_END + timedelta(hours=1))
    run_jobs()
    page = browser_page
    sign_in(page, admin.email)

    page.goto("/admin/")
    page.get_by_role("link", name="Evaluation questions").click()
    assert_accessible(page)
    page.get_by_role("button", name="Start a new version of stage 2").click()
    assert "Version 2 (draft)" in page.locator("h1").inner_text()
    assert_accessible(page)
    page.get_by_role("link", name="Add a question").click()
    assert_accessible(page)
    page.get_by_label("Question", exact=True).fill("Did your team change how it works?")
    page.get_by_label("Yes, no or not yet").check()
    page.get_by_role("button", name="Save question").click()
    assert "Did your team change how it works?" in page.locator("main").inner_text()
    page.get_by_role("button", name="Publish this version").click()
    assert "Version 2 is published" in page.locator(".govuk-notification-banner").inner_text()
    assert_accessible(page)

    page.goto("/evaluation/courses")
    assert_accessible(page)
    page.get_by_role("link", name=session.course.title).click()
    page.get_by_label("Send a copy of the second evaluation").check()
    page.get_by_role("button", name="Save settings").click()
    assert "Evaluation settings saved" in page.locator(".govuk-notification-banner").inner_text()
    assert_accessible(page)

    page.goto("/evaluation/invitations")
    assert_accessible(page)
    page.get_by_role("link", name=session.course.title).click()
    assert "Grace Gorringe" in page.locator("main").inner_text()
    page.get_by_role("button", name=re.compile(r"Send again\s+to Grace Gorringe \(first evaluation\)")).click()
    assert "sent again to Grace Gorringe" in page.locator(".govuk-notification-banner").inner_text()
    assert_accessible(page)


def test_the_one_page_summary_prints_on_one_a4_page_with_demo_data(app, browser_page, make_user):
    from app.demo import load_demo

    load_demo()
    reviewer = make_user(email="reviewer@example.org", roles=("reviewer",))
    db.session.commit()
    page = browser_page
    sign_in(page, reviewer.email)
    page.goto("/evaluation/review/summary")
    main = page.locator("main").inner_text()
    assert "Confidence rose for" in main and "By course" in main  # the demo's figures are there
    pdf = page.pdf(format="A4")
    assert len(PdfReader(io.BytesIO(pdf)).pages) == 1
