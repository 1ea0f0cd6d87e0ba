"""A local SMTP server for development: prints every message `make run` sends."""
import asyncio
import email
import email.policy
import sys

from aiosmtpd.controller import Controller


class PrintingHandler:
    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        body = message.get_body(preferencelist=("plain",))
        attachments = [a.get_filename() for a in message.iter_attachments()]
        print("\n" + "=" * 72, flush=True)
        print(f"Mail to {message['To']}: {message['Subject']}", flush=True)
        if attachments:
            print(f"Attachments: {', '.join(attachments)}", flush=True)
        # Meeting requests travel in the body, beside the text and HTML, not as attachments.
        for part in message.walk():
            if part.get_content_type() == "text/calendar":
                print(f"Calendar: {part.get_param('method') or 'no method'}", flush=True)
        print("-" * 72, flush=True)
        print(body.get_content() if body else "(no text part)", flush=True)
        return "250 Message accepted for delivery"


def main() -> None:
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 1025
    controller = Controller(PrintingHandler(), hostname="127.0.0.1", port=port)
    controller.start()
    print(f"Development mail sink listening on 127.0.0.1:{port}", flush=True)
    try:
        asyncio.get_event_loop().run_forever()
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
