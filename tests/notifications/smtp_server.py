"""A real SMTP server on a free local port (aiosmtpd) that keeps what it accepted, and can be
told to refuse mail or to answer slowly, as a busy relay does."""
from __future__ import annotations

import asyncio
import email
import socket
import threading
from email.policy import default

from aiosmtpd.controller import Controller


class RecordingHandler:
    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.refuse_with: str | None = None  # e.g. "451 4.3.0 try again later"
        self.delay_seconds = 0.0
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        if self.delay_seconds:
            await asyncio.sleep(self.delay_seconds)
        if self.refuse_with:
            return self.refuse_with
        with self._lock:
            self.messages.append(email.message_from_bytes(envelope.content, policy=default))
        return "250 OK"


def _free_port() -> int:
    # aiosmtpd's controller checks its port by connecting to it, so it needs a real number.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class LocalSmtp:
    def __init__(self):
        self.handler = RecordingHandler()
        self.port = _free_port()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)

    def start(self) -> "LocalSmtp":
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}?starttls=off"

    @property
    def messages(self):
        return self.handler.messages
