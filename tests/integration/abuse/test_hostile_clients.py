#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A scripted hostile-client run against consentd (promise 9).

While honest clients keep answering in their own meeting (accept, then
withdraw, over and over), attackers send: oversized and fragmented
messages, deeply nested and invalid UTF-8 JSON, binary frames, a slowloris
hello, message and connection floods, forged, expired, replayed and
cross-meeting tokens, impersonation of another participant, and path-like
meeting ids on the admin API. Checked afterwards: the daemon is still up
and served the honest clients throughout (their receipt latency p50/p99 is
printed, never asserted), the victim meeting's state is unchanged, and the
ledger holds no record of the victim meeting or of any path-like id.
Bounded: about 20 s of attack.
"""

import asyncio
import base64
import json
import os
import socket
import statistics
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.environ["CONSENT_SOURCE_ROOT"], "tests", "faults"))
import faults_util as u  # noqa: E402

ATTACK_S = 20.0
CONFIG = "[limits]\nhello-timeout-s=2\n"
VICTIM = "victim"
HONEST = "honest"


# -- a raw websocket client, so frames can be malformed on purpose ---------------
async def raw_ws(d, handshake=True):
    reader, writer = await asyncio.open_connection("127.0.0.1", d.port)
    if handshake:
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write(("GET /v1/ws HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
                      "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                      "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: consent.v1\r\n\r\n"
                      % (d.port, key)).encode())
        await writer.drain()
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        if b" 101 " not in head.split(b"\r\n")[0]:
            raise AssertionError("no websocket upgrade: %r" % head[:200])
    return reader, writer


def frame(payload, opcode=1, fin=True):
    mask = os.urandom(4)
    head = bytes([(0x80 if fin else 0) | opcode])
    n = len(payload)
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 65536:
        head += bytes([0x80 | 126]) + n.to_bytes(2, "big")
    else:
        head += bytes([0x80 | 127]) + n.to_bytes(8, "big")
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


async def send_and_drain(d, frames, hello=None):
    """Sends @frames on a fresh connection; reads until the server closes."""
    try:
        reader, writer = await raw_ws(d)
        if hello is not None:
            writer.write(frame(json.dumps(hello).encode()))
        for f in frames:
            writer.write(f)
            await writer.drain()
        await asyncio.wait_for(reader.read(-1), 5)  # closed, or left idle: both fine
        writer.close()
    except (ConnectionError, asyncio.TimeoutError, asyncio.IncompleteReadError):
        pass


# -- attacks -------------------------------------------------------------------------
async def attack_frames(d, tokens):
    hello = {"type": "hello", "token": tokens["mallory"]}
    big = b'{"type":"withdraw","x":"' + b"A" * (2 << 20) + b'"}'
    deep = b'{"type":"consent","x":' + b"[" * 5000 + b"]" * 5000 + b"}"
    part = b'{"type":"withdraw","pad":"' + b"B" * 4000
    await asyncio.gather(
        send_and_drain(d, [frame(big)], hello),
        send_and_drain(d, [frame(part, fin=False)] + [frame(b"C" * 4000, 0, False)] * 50, hello),
        send_and_drain(d, [frame(deep)], hello),
        send_and_drain(d, [frame(b'{"type":"hello","token":"\xff\xfe\xc0\xaf"}')]),
        send_and_drain(d, [frame(os.urandom(512), opcode=2)], hello),
        send_and_drain(d, [frame(b'{"type":"hello","token":' + b"1" * 400 + b"}")]),
        send_and_drain(d, [frame(b"not json at all")], hello))


async def attack_slowloris(d, n=20):
    """Connections that upgrade and then dribble a hello byte by byte, and
    plain TCP connections that dribble the HTTP request."""
    async def dribble_ws():
        try:
            reader, writer = await raw_ws(d)
            msg = frame(b'{"type":"hello","token":"' + b"x" * 200 + b'"}')
            for b in msg:
                writer.write(bytes([b]))
                await writer.drain()
                await asyncio.sleep(0.2)
        except (ConnectionError, OSError):
            pass

    async def dribble_http():
        try:
            _, writer = await raw_ws(d, handshake=False)
            for b in b"GET /v1/ws HTTP/1.1\r\nHost: x\r\n" + b"X-Pad: " + b"y" * 200:
                writer.write(bytes([b]))
                await writer.drain()
                await asyncio.sleep(0.2)
        except (ConnectionError, OSError):
            pass

    await asyncio.wait_for(asyncio.gather(*[dribble_ws() for _ in range(n // 2)],
                                          *[dribble_http() for _ in range(n // 2)],
                                          return_exceptions=True), ATTACK_S)


async def attack_floods(d, tokens, victim_req):
    # Messages: far beyond the per-connection rate, from a roster outsider.
    c = await u.Client.connect(d, tokens["mallory"])
    try:
        for _ in range(2000):
            await c.send({"type": "consent", "decision": "accept", "participant": "bob",
                          **victim_req})
    except Exception:
        pass
    # Connections: many at once (kept under the per-IP cap, which honest
    # clients on this same address share).
    conns = []
    for _ in range(30):
        try:
            conns.append(await raw_ws(d))
        except (ConnectionError, OSError, AssertionError, asyncio.TimeoutError):
            break
    await asyncio.sleep(1)
    for _, w in conns:
        w.close()


async def attack_tokens(d, tokens, victim_req, honest_req):
    async def try_hello(token, msg=None):
        async def attempt():
            c = await u.Client.connect(d, token)
            if msg is not None:
                await c.send(msg)
            await c.expect_close(timeout=3)
        try:  # closed by the server, or left open after an error: both fine
            await asyncio.wait_for(attempt(), 5)
        except Exception:
            pass

    forged = tokens["mallory"][:-4] + ("AAAA" if not tokens["mallory"].endswith("AAAA") else "BBBB")
    await try_hello(forged)
    await try_hello(tokens["expired"])
    await try_hello("../../etc/passwd")
    # Replay: the same participant token on a second, concurrent connection,
    # answering another meeting's request (cross-meeting).
    await try_hello(tokens["honest-x"], {"type": "consent", "decision": "accept", **victim_req})
    # A victim-meeting outsider impersonating roster members.
    for who in ("alice", "bob"):
        await try_hello(tokens["mallory"], {"type": "consent", "decision": "decline",
                                            "participant": who, "subject": who, **victim_req})
        await try_hello(tokens["mallory"], {"type": "withdraw", "participant": who})
    # A recorder token used as a participant, and vice versa.
    await try_hello(tokens["recorder"], {"type": "withdraw"})
    await try_hello(tokens["recorder"], {"type": "consent", "decision": "decline", **victim_req})
    await try_hello(tokens["mallory"], {"type": "segment", "path": "../../x", "sha256": "0" * 64,
                                        "size": 1})


def attack_admin(d):
    statuses = []
    for path in ("/v1/meetings/../x", "/v1/meetings/..%2Fx", "/v1/meetings/%2e%2e%2fx",
                 "/v1/meetings/x%00y", "/v1/meetings/" + "m" * 5000, "/v1/meetings/x%2F..%2F..%2Fy",
                 "/v1/meetings/victim/participants/..%2Fbob"):
        for method, body in (("PUT", {}), ("GET", None), ("DELETE", None)):
            try:
                statuses.append(d.http(method, path, body)[0])
            except Exception as e:  # a dropped connection is an answer too
                statuses.append(str(e))
    for body in ({"meeting": "../x", "participant": "p", "role": "participant"},
                 {"meeting": VICTIM, "participant": "../bob", "role": "participant"},
                 {"meeting": VICTIM, "participant": "bob", "role": "admin"}):
        statuses.append(d.http("POST", "/v1/tokens", body)[0])
    # No token, a wrong token.
    statuses.append(d.http("PUT", "/v1/meetings/" + VICTIM + "/participants/eve", {}, token=False)[0])
    statuses.append(d.http("DELETE", "/v1/meetings/" + VICTIM, token="x" * 64)[0])
    return statuses


# -- honest clients ------------------------------------------------------------------
async def honest_loop(d, stop, latencies, errors):
    c = await u.Client.connect(d, d.token(HONEST, "h1", ttl=300))
    await c.expect("welcome")
    req = u.request_of(d.state(HONEST))
    while not stop.is_set():
        try:
            t0 = time.perf_counter()
            await u.consent(c, req)
            await c.expect("recorded", event="accept", timeout=30)
            latencies.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            await c.send({"type": "withdraw"})
            await c.expect("recorded", event="withdraw", timeout=30)
            latencies.append(time.perf_counter() - t0)
        except Exception as e:
            errors.append("%r after %d receipts; last seen %s" % (e, len(latencies), c.seen[-3:]))
            return
        await asyncio.sleep(0.25)  # well under the per-connection message rate
    await c.close()


class HostileClients(unittest.TestCase):
    def test_hostile_run(self):
        d = u.Daemon(config=CONFIG).start()
        try:
            asyncio.run(self.run_attack(d))
            self.assertIsNone(d.proc.poll(), "consentd died:\n" + d.log()[-5000:])
            self.assertEqual(d.stop(), 0)
        finally:
            d.cleanup()

    async def run_attack(self, d):
        d.meeting(VICTIM, title="Victim")
        for p in ("alice", "bob"):
            d.join(VICTIM, p)
        d.request_recording(VICTIM)
        d.meeting(HONEST)
        d.join(HONEST, "h1")
        d.request_recording(HONEST)
        victim_req = u.request_of(d.state(VICTIM))
        honest_req = u.request_of(d.state(HONEST))
        alice = await u.Client.connect(d, d.token(VICTIM, "alice"))
        await alice.expect("welcome")
        await u.consent(alice, victim_req)
        await alice.expect("recorded", event="accept")
        await alice.close()
        tokens = {
            "mallory": d.token(VICTIM, "mallory"),  # a token, but not on the roster
            "recorder": d.token(VICTIM, "rec", "recorder"),
            "honest-x": d.token(HONEST, "h1"),
            "expired": d.token(VICTIM, "bob", ttl=1),
        }
        before_state = d.state(VICTIM)
        before_victim = [r for r in u.ledger_records(d.state_dir) if r.get("meeting") == VICTIM]
        await asyncio.sleep(1.5)  # the short token expires

        stop = asyncio.Event()
        latencies, errors = [], []
        honest = [asyncio.ensure_future(honest_loop(d, stop, latencies, errors))]
        t0 = time.monotonic()

        async def timed(name, coro):
            await coro
            print("%-10s done after %.1f s" % (name, time.monotonic() - t0), flush=True)

        await asyncio.gather(
            timed("frames", attack_frames(d, tokens)),
            timed("slowloris", attack_slowloris(d)),
            timed("floods", attack_floods(d, tokens, victim_req)),
            timed("tokens", attack_tokens(d, tokens, victim_req, honest_req)),
            timed("admin", asyncio.to_thread(attack_admin, d)),
            return_exceptions=False)
        await asyncio.sleep(max(0.0, 5.0 - (time.monotonic() - t0)))
        stop.set()
        await asyncio.gather(*honest)
        print("attack ran %.1f s" % (time.monotonic() - t0))

        self.assertFalse(errors, errors)
        self.assertGreater(len(latencies), 0)
        q = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else latencies * 99
        print("honest client receipts during the attack: n=%d p50=%.1f ms p99=%.1f ms" %
              (len(latencies), statistics.median(latencies) * 1000, q[98] * 1000))

        after_state = d.state(VICTIM)
        self.assertEqual(after_state, before_state)
        records = u.ledger_records(d.state_dir)
        after_victim = [r for r in records if r.get("meeting") == VICTIM]
        self.assertEqual(len(after_victim), len(before_victim),
                         [r["type"] for r in after_victim[len(before_victim):]])
        meetings = {r.get("meeting") for r in records}
        self.assertTrue(meetings <= {None, VICTIM, HONEST}, meetings)
        status, _, _ = d.http("GET", "/healthz", token=False)
        self.assertEqual(status, 200)


if __name__ == "__main__":
    unittest.main(verbosity=2)
