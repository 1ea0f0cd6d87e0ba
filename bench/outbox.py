"""`python -m bench.outbox`: the outbox's delivery rate beside a bare smtplib loop.

Queues N messages (10,000 by default) in a throwaway SQLite database (or the database in
DATABASE_URL, emptied first), starts a counting SMTP sink in its own process on 127.0.0.1, then:
1. the bare loop: the same messages built the same way (Flask-Mail) and sent over one smtplib
   connection, with no database in between;
2. the outbox: `deliver_outbox()` drains the queue (claim, send, record each outcome).
It prints both rates, their ratio (the issue asks for at least 0.8), the time to drain, and how
many messages the sink saw lost or twice.
"""
from __future__ import annotations

import argparse
import json
import os
import smtplib
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SINK = r"""
import asyncio, json, sys
from aiosmtpd.controller import Controller

class Counter:
    def __init__(self):
        self.ids = {}
    async def handle_DATA(self, server, session, envelope):
        for line in envelope.content.split(b"\r\n"):
            if line.lower().startswith(b"message-id:"):
                key = line.split(b":", 1)[1].strip().decode()
                self.ids[key] = self.ids.get(key, 0) + 1
                break
        return "250 OK"

counter = Counter()
controller = Controller(counter, hostname="127.0.0.1", port=int(sys.argv[1]))
controller.start()
print("ready", flush=True)
for line in sys.stdin:
    if line.strip() == "count":
        print(json.dumps(counter.ids), flush=True)
        counter.ids = {}
controller.stop()
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Sink:
    def __init__(self):
        self.port = _free_port()
        self.process = subprocess.Popen([sys.executable, "-c", SINK, str(self.port)], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, text=True)
        assert self.process.stdout.readline().strip() == "ready"

    def take_counts(self) -> dict[str, int]:
        self.process.stdin.write("count\n")
        self.process.stdin.flush()
        return json.loads(self.process.stdout.readline())

    def stop(self) -> None:
        self.process.stdin.close()
        self.process.wait(10)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.outbox", description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    args = parser.parse_args(argv)

    from sqlalchemy import select

    from app import create_app
    from app.email import OutboxMessage, _Claimed, _mime, deliver_outbox, queue_email
    from app.extensions import db
    from config import Config

    folder = tempfile.mkdtemp(prefix="bench-outbox-")
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{folder}/outbox.db"
    sink = Sink()

    class BenchConfig(Config):
        SQLALCHEMY_DATABASE_URI = url
        MAIL_SERVER, MAIL_PORT, MAIL_USE_TLS = "127.0.0.1", sink.port, False
        MAIL_DELIVERY_SECONDS = 3600

    app = create_app(BenchConfig)
    import logging

    logging.getLogger().setLevel(logging.WARNING)
    try:
        with app.app_context():
            db.drop_all()
            db.create_all()
            for n in range(args.messages):
                queue_email(key=f"bench-{n}", to=f"person{n}@example.org", subject=f"Your booking {n}",
                            template="accounts/emails/verify", person={"name": f"Person {n}"},
                            link=f"http://127.0.0.1:5000/verify/{n:08d}", hours=48)
                if n % 1000 == 999:
                    db.session.commit()
            db.session.commit()
            rows = db.session.execute(select(
                OutboxMessage.id, OutboxMessage.recipient, OutboxMessage.subject, OutboxMessage.text_body,
                OutboxMessage.html_body, OutboxMessage.attachments_json, OutboxMessage.message_id,
            ).order_by(OutboxMessage.id)).all()
            messages = [_Claimed(*row) for row in rows]
            db.session.commit()

            started = time.perf_counter()
            smtp = smtplib.SMTP("127.0.0.1", sink.port, timeout=30)
            for message in messages:
                smtp.sendmail("training@northbridge-scp.example", [message.recipient], _mime(message))
            smtp.quit()
            bare_seconds = time.perf_counter() - started
            bare_counts = sink.take_counts()

            started = time.perf_counter()
            delivery = deliver_outbox()
            outbox_seconds = time.perf_counter() - started
            outbox_counts = sink.take_counts()
            left = db.session.scalar(select(db.func.count()).select_from(OutboxMessage)
                                     .where(OutboxMessage.status != "sent"))
    finally:
        sink.stop()

    n = args.messages
    bare_rate, outbox_rate = n / bare_seconds, delivery.sent / outbox_seconds
    lost = n - len(outbox_counts)
    twice = sum(1 for count in outbox_counts.values() if count > 1)
    print(f"Outbox delivery of {n:,} messages to a local SMTP sink ({'PostgreSQL' if 'postgres' in url else 'SQLite'})")
    print(f"  bare smtplib loop, one connection: {bare_seconds:7.1f} s  {bare_rate:7.0f} messages/s"
          f"  ({len(bare_counts):,} received)")
    print(f"  outbox (claim, send, record):      {outbox_seconds:7.1f} s  {outbox_rate:7.0f} messages/s"
          f"  ({delivery.sent:,} sent, {delivery.failed} failed attempts, {left} not sent)")
    print(f"  ratio outbox / bare: {outbox_rate / bare_rate:.2f}   lost: {lost}   delivered twice: {twice}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
