"""Benchmarks, run with `make bench` (or each on its own); they print figures and assert nothing.

    python -m bench              the booking rushes of issue 13 through gunicorn (bench/__main__.py,
                                 bench/rush.py), two servers with two job runners, --profile
    python -m bench.statements   SQL statements per booking, cancellation and page, at 10 and 5,000 sessions
    python -m bench.reports      each report beside a hand-written query, over 1 and 5 years
    python -m bench.outbox       the outbox's delivery rate beside a bare smtplib loop
    python -m bench.slow_mail    a booking rush while the mail server is fast, then slow
"""
