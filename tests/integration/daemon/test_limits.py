#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Every limit and every kind of bad input: each gets its specific error or
close code, the daemon keeps serving others, and nothing changes."""

import asyncio
import os
import socket
import sys
import unittest

import websockets

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from consentd_fixture import Client, Daemon, run  # noqa: E402

CONFIG = """\
[limits]
max-message-bytes=1024
max-json-depth=4
messages-per-second=5
max-connections=12
max-connections-per-ip=8
hello-timeout-s=1
ping-interval-s=30
idle-timeout-s=60
max-admin-body-bytes=512
max-meetings=3
max-participants=2
"""


class LimitsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = Daemon(config=CONFIG).start()
        cls.d.meeting("lim")
        cls.d.join("lim", "alice")
        cls.d.request_recording("lim")

    @classmethod
    def tearDownClass(cls):
        rc = cls.d.stop()
        cls.d.cleanup()
        assert rc == 0, "consentd did not exit cleanly"

    def snapshot(self):
        return self.d.state("lim")

    async def participant(self):
        c = await Client.connect(self.d, self.d.token("lim", "alice"))
        await c.expect("welcome")
        return c

    async def still_serving(self):
        c = await self.participant()
        await c.close()

    # -- websocket ------------------------------------------------------------
    def test_ws_bad_input(self):
        before = self.snapshot()
        run(self._ws_bad_input())
        self.assertEqual(self.snapshot(), before)

    async def _ws_bad_input(self):
        cases = [
            ("x" * 2000, 1009, "too-large"),  # over max-message-bytes
            (b"\x00\x01binary", 1003, None),   # binary frame
        ]
        for payload, close, code in cases:
            c = await self.participant()
            await c.send(payload)
            got, msgs = await c.expect_close()
            self.assertEqual(got, close, payload[:20])
            errors = [m for m in msgs if m["type"] == "error"]
            self.assertTrue(errors)
            if code:
                self.assertEqual(errors[-1]["code"], code)
            await self.still_serving()

        # Fragmented message whose fragments are each small but sum too big.
        c = await self.participant()
        await c.ws.send(iter(["{" + " " * 600, " " * 600 + "}"]))
        got, msgs = await c.expect_close()
        self.assertEqual(got, 1009)

        # Invalid UTF-8 in a text frame: 1007 (the error goes out if lws lets it).
        c = await self.participant()
        await c.ws.ensure_open()
        from websockets.frames import Frame, Opcode
        await c.ws.write_frame(True, Opcode.TEXT, b'{"type":"withdraw","x":"\xff"}')
        got, _ = await c.expect_close()
        self.assertEqual(got, 1007)

        # Answered errors that keep the session open.
        c = await self.participant()
        for text, code in (("{'type':'withdraw'}", "bad-json"),
                           ('{"type":"withdraw","type":"withdraw"}', "duplicate-key"),
                           ('{"type":"nope"}', "unknown-type"),
                           ('{"type":"consent","decision":"accept","notice":{"a":{"b":{"c":{"d":1}}}},"request":"r"}', "too-deep"),
                           ('[1,2]', None)):
            await c.send(text)
            err = await c.expect("error")
            if code:
                self.assertEqual(err["code"], code, text)
            await asyncio.sleep(0.25)  # stay under messages-per-second
        await c.close()

    def test_rate_limit(self):
        run(self._rate())

    async def _rate(self):
        before = self.snapshot()
        c = await self.participant()
        # A burst well past messages-per-second (5): the excess is dropped
        # with a rate error; the session stays usable.
        for _ in range(20):
            await c.send('{"type":"hello","token":"x"}')
        errors = []
        while True:
            m = await c.expect("error")
            errors.append(m)
            if m["code"] == "rate-limited":
                break
        # The messages let through got their own answers, never "rate-limited".
        self.assertTrue(all(e["code"] == "conflict" for e in errors[:-1]), errors)
        await asyncio.sleep(1.5)  # refill the bucket (not a timing assertion)
        await c.send('{"type":"hello","token":"x"}')
        self.assertEqual((await c.expect("error"))["code"], "conflict")
        await c.close()
        self.assertEqual(self.snapshot(), before)
        await self.still_serving()

    def test_hello_timeout(self):
        run(self._hello_timeout())

    async def _hello_timeout(self):
        c = await Client.connect(self.d, None)
        got, msgs = await c.expect_close(timeout=60)
        self.assertEqual(got, 1008)
        self.assertEqual(msgs[-1]["type"], "error")
        self.assertEqual(msgs[-1]["code"], "timeout")
        await self.still_serving()

    def test_connection_caps(self):
        run(self._caps())

    async def _caps(self):
        held = []
        refused = None
        for _ in range(10):
            try:
                held.append(await Client.connect(self.d, None))
            except websockets.InvalidStatusCode as e:
                refused = e.status_code
                break
        self.assertEqual(len(held), 8)
        self.assertEqual(refused, 429)
        # 127.0.0.2 is loopback too: another address, until the total cap (12).
        refused = None
        for _ in range(6):
            try:
                held.append(await Client.connect(self.d, None, local_addr=("127.0.0.2", 0)))
            except websockets.InvalidStatusCode as e:
                refused = e.status_code
                break
        self.assertEqual(len(held), 12)
        self.assertEqual(refused, 503)
        for c in held:
            await c.close()
        await asyncio.sleep(0.5)
        await self.still_serving()

    def test_subprotocol_and_path(self):
        run(self._handshake())

    async def _handshake(self):
        with self.assertRaises(websockets.InvalidStatusCode) as e:
            await Client.connect(self.d, None, subprotocols=())
        self.assertEqual(e.exception.status_code, 400)
        with self.assertRaises(websockets.InvalidStatusCode) as e:
            await websockets.connect("ws://127.0.0.1:%d/other" % self.d.port,
                                     subprotocols=["consent.v1"])
        self.assertEqual(e.exception.status_code, 404)

    # -- admin API -------------------------------------------------------------
    def test_admin_bad_input(self):
        d = self.d
        before = self.snapshot()
        cases = [
            ("PUT", "/v1/meetings/lim/participants/bob", None, b"{'x':1}", 400, "bad-json"),
            ("PUT", "/v1/meetings/lim/participants/bob", None, b'{"role":"a","role":"b"}', 400, "duplicate-key"),
            ("PUT", "/v1/meetings/lim/participants/bob", {"colour": "red"}, None, 400, "bad-field"),
            ("PUT", "/v1/meetings/lim/participants/bob", {"role": 5}, None, 400, "bad-field"),
            ("PUT", "/v1/meetings/..bad", {}, None, 400, "invalid"),
            ("PUT", "/v1/meetings/" + "x" * 65, {}, None, 400, "invalid"),
            ("POST", "/v1/meetings/lim/recording", {"action": "dance"}, None, 400, "bad-field"),
            ("POST", "/v1/meetings/nope/recording", {"action": "request"}, None, 404, "unknown-meeting"),
            ("GET", "/v1/meetings/nope", None, None, 404, "unknown-meeting"),
            ("PUT", "/v1/meetings/lim", {"notice": {"version": "1", "text": "other text"}}, None, 409, "conflict"),
            ("PUT", "/v1/meetings/lim", {"notice": {"version": "9", "retention-days": 36500}}, None, 400, "policy"),
            ("POST", "/v1/meetings/lim", {}, None, 405, "method-not-allowed"),
            ("POST", "/v1/tokens", {"meeting": "lim", "participant": "a", "role": "boss"}, None, 400, "bad-field"),
            ("POST", "/v1/tokens", {"meeting": "lim", "participant": "a", "role": "participant", "ttl": 0}, None, 400, "bad-field"),
            ("POST", "/v1/tokens", {"meeting": "nope", "participant": "a", "role": "participant"}, None, 404, "unknown-meeting"),
            ("DELETE", "/v1/meetings/lim/participants/zed", None, None, 404, "not-present"),
            ("PUT", "/v1/meetings/lim/participants/bob", None, b'{"display-name":"' + b"x" * 600 + b'"}', 413, "too-large"),
            ("GET", "/v1/nothing", None, None, 404, "not-found"),
            ("PUT", "/v1/meetings/lim/participants/bob", {"display-name": "Bob\u001b[31m"}, None, 400, "bad-field"),
            ("PUT", "/v1/meetings/lim/participants/bob", {"display-name": "Bob\nAdmin"}, None, 400, "bad-field"),
            ("PUT", "/v1/meetings/lim/participants/bob", {"display-name": "Bob\u007f"}, None, 400, "bad-field"),
            ("PUT", "/v1/meetings/lim/participants/bob", {"display-name": "Bob", "role": "a\tb"}, None, 400, "bad-field"),
            ("PUT", "/v1/meetings/lim", {"title": "Weekly\r\nX-Injected: 1"}, None, 400, "bad-field"),
            ("PUT", "/v1/meetings/lim", {"title": "\u0000"}, None, 400, "bad-json"),  # refused by the JSON reader already
            ("PUT", "/v1/meetings/ctl", {"title": "Bad\u0007"}, None, 400, "bad-field"),
            ("POST", "/v1/meetings", {}, None, 405, "method-not-allowed"),
        ]
        for method, path, body, raw, status, code in cases:
            got, data, _ = d.http(method, path, body, raw=raw)
            self.assertEqual((got, data.get("error") if isinstance(data, dict) else data),
                             (status, code), (method, path, body, raw))
            self.assertTrue(data["message"])
        # Authentication.
        for token in (None, "wrong-token-wrong-token-wrong-token-wrong"):
            got, data, hdrs = d.http("GET", "/v1/meetings/lim", token=token)
            self.assertEqual(got, 401)
            self.assertEqual(hdrs.get("www-authenticate"), "Bearer")
        self.assertEqual(self.snapshot(), before)

    def test_admin_caps(self):
        d = self.d
        # max-participants=2: alice + one more.
        d.join("lim", "bob")
        got, data, _ = d.http("PUT", "/v1/meetings/lim/participants/carol", {})
        self.assertEqual((got, data["error"]), (409, "conflict"))
        d.leave("lim", "bob")
        # max-meetings=3 (lim and maybe others exist).
        made = []
        for i in range(4):
            got, data, _ = d.http("PUT", "/v1/meetings/cap%d" % i, {})
            if got == 409:
                break
            made.append("cap%d" % i)
        self.assertEqual(got, 409)
        for m in made:
            d.http("DELETE", "/v1/meetings/" + m)

    def test_oversized_body_unread(self):
        # Content-Length beyond the cap is refused before the body is read.
        s = socket.create_connection(("127.0.0.1", self.d.port), timeout=30)
        s.sendall(("PUT /v1/meetings/big HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
                   "Content-Length: 100000000\r\n\r\n{" % self.d.admin_token).encode())
        data = s.recv(4096).decode()
        s.close()
        self.assertTrue(data.startswith("HTTP/1.1 413"), data[:100])
        got, _, _ = self.d.http("GET", "/v1/meetings/big")
        self.assertEqual(got, 404)


class IdleTest(unittest.TestCase):
    def test_unresponsive_peer_is_dropped(self):
        """A peer that answers no ping is hung up on after idle-timeout-s."""
        conf = "[limits]\nping-interval-s=1\nidle-timeout-s=3\nhello-timeout-s=60\n"
        with Daemon(config=conf) as d:
            s = socket.create_connection(("127.0.0.1", d.port), timeout=60)
            s.sendall(("GET /v1/ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                       "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                       "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: consent.v1\r\n\r\n").encode())
            got = b""
            pings = 0
            while True:  # read everything (pings included), answer nothing
                chunk = s.recv(4096)
                if not chunk:
                    break
                got += chunk
                pings += chunk.count(b"\x89\x00")
            s.close()
            self.assertIn(b"101 Switching Protocols", got)
            self.assertGreaterEqual(pings, 1, "the server pinged before hanging up")
            self.assertEqual(d.stop(), 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
