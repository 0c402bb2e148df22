"""Notifiers against local fake servers: an SMS API in the common shape (Twilio-style form POST with
basic auth), an SMTP server speaking RFC 5321 just enough, and a webhook receiver verifying the
signature. Plus routing and the in-memory double."""

from __future__ import annotations

import base64
import json
import socketserver
import threading
import time
from collections.abc import Iterator
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs

import pytest

from commonweal.notify import (
    DeliveryError,
    HttpSmsProvider,
    InMemoryNotifier,
    OutboundMessage,
    RoutingNotifier,
    SmsNotifier,
    SmtpEmailNotifier,
    WebhookNotifier,
    sign_payload,
    verify_signature,
)

MSG = OutboundMessage(channel="sms", recipient="+15550100", subject="Check-in",
                      body="Are you all right? http://x/respond?t=abc", key="prompt:1:sms",
                      organisation_id=1)


class _Http(BaseHTTPRequestHandler):
    received: list[dict[str, object]] = []
    status = 201

    def do_POST(self) -> None:  # noqa: N802 - http.server API
        length = int(self.headers.get("content-length", 0))
        body = self.rfile.read(length)
        type(self).received.append({"path": self.path, "headers": dict(self.headers),
                                    "body": body})
        self.send_response(type(self).status)
        self.send_header("content-type", "application/json")
        self.end_headers()
        self.wfile.write(json.dumps({"sid": f"SM{len(type(self).received)}"}).encode())

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def http_server() -> Iterator[tuple[str, type[_Http]]]:
    handler = type("H", (_Http,), {"received": [], "status": 201})
    srv = HTTPServer(("127.0.0.1", 0), handler)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}", handler
    srv.shutdown()
    srv.server_close()


def test_sms_provider_speaks_the_common_api_shape(http_server) -> None:
    base, handler = http_server
    notifier = SmsNotifier(HttpSmsProvider(base, "AC123", "secret", "+15559999"))
    result = notifier.send(MSG)
    assert result.provider_id == "SM1"
    [req] = handler.received
    assert req["path"] == "/Accounts/AC123/Messages.json"
    form = parse_qs(req["body"].decode())  # type: ignore[union-attr]
    assert form == {"To": ["+15550100"], "From": ["+15559999"], "Body": [MSG.body]}
    headers = {k.lower(): v for k, v in req["headers"].items()}  # type: ignore[union-attr]
    assert headers["authorization"] == "Basic " + base64.b64encode(b"AC123:secret").decode()
    assert headers["idempotency-key"] == "prompt:1:sms"


@pytest.mark.parametrize(("status", "permanent"), [(500, False), (429, False), (400, True)])
def test_sms_provider_errors(http_server, status: int, permanent: bool) -> None:
    base, handler = http_server
    handler.status = status
    with pytest.raises(DeliveryError) as info:
        SmsNotifier(HttpSmsProvider(base, "AC1", "t", "+1")).send(MSG)
    assert info.value.permanent is permanent


def test_sms_provider_unreachable_is_transient() -> None:
    with pytest.raises(DeliveryError) as info:
        HttpSmsProvider("http://127.0.0.1:9", "AC1", "t", "+1", timeout=1).send_sms(
            "+1", "x", idempotency_key="k")
    assert not info.value.permanent


def test_webhook_is_signed_and_verifiable(http_server) -> None:
    base, handler = http_server
    handler.status = 200
    WebhookNotifier(base + "/hook", "s3cret").send(MSG)
    [req] = handler.received
    headers = {k.lower(): v for k, v in req["headers"].items()}  # type: ignore[union-attr]
    body = req["body"]
    assert verify_signature("s3cret", body, headers["commonweal-signature"])  # type: ignore[arg-type]
    assert not verify_signature("other", body, headers["commonweal-signature"])  # type: ignore[arg-type]
    assert json.loads(body)["key"] == "prompt:1:sms"  # type: ignore[arg-type]
    # replay protection: an old signature is refused
    old = sign_payload("s3cret", b"{}", int(time.time()) - 3600)
    assert not verify_signature("s3cret", b"{}", old)


class _Smtp(socketserver.StreamRequestHandler):
    messages: list[bytes] = []

    def handle(self) -> None:
        w = self.wfile.write
        w(b"220 fake ESMTP\r\n")
        while True:
            line = self.rfile.readline()
            if not line:
                return
            cmd = line.strip().upper()
            if cmd.startswith((b"EHLO", b"HELO")):
                w(b"250 fake\r\n")
            elif cmd.startswith((b"MAIL", b"RCPT", b"RSET", b"NOOP")):
                w(b"250 ok\r\n")
            elif cmd == b"DATA":
                w(b"354 go ahead\r\n")
                data = b""
                while True:
                    chunk = self.rfile.readline()
                    if chunk == b".\r\n":
                        break
                    data += chunk
                type(self).messages.append(data)
                w(b"250 queued\r\n")
            elif cmd == b"QUIT":
                w(b"221 bye\r\n")
                return
            else:
                w(b"502 no\r\n")


def test_smtp_email() -> None:
    handler = type("S", (_Smtp,), {"messages": []})
    srv = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        n = SmtpEmailNotifier("127.0.0.1", srv.server_address[1], sender="cw@example.org")
        result = n.send(OutboundMessage(channel="email", recipient="bea@example.org",
                                        subject="Alert", body="Please check on Ada.",
                                        key="alert:7:0:email:bea@example.org"))
        [raw] = handler.messages
        msg = message_from_bytes(raw)
        assert msg["To"] == "bea@example.org" and msg["Subject"] == "Alert"
        assert msg["X-Commonweal-Key"] == "alert:7:0:email:bea@example.org"
        assert msg["Message-ID"].strip() == result.provider_id
        assert "Please check on Ada." in msg.get_payload()
    finally:
        srv.shutdown()
        srv.server_close()
    with pytest.raises(DeliveryError):
        SmtpEmailNotifier("127.0.0.1", 9, sender="x@y", timeout=1).send(MSG)


def test_routing_and_memory_double() -> None:
    mem = InMemoryNotifier()
    r = RoutingNotifier({"sms": mem})
    r.send(MSG)
    assert mem.keys() == ["prompt:1:sms"]
    with pytest.raises(DeliveryError) as info:
        r.send(OutboundMessage(channel="email", recipient="x", subject="s", body="b", key="k"))
    assert info.value.permanent
    mem.fail_next = 1
    with pytest.raises(DeliveryError):
        mem.send(MSG)
    mem.send(MSG)
    assert len(mem.sent) == 2
