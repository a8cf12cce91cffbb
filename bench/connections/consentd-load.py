#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""consentd under many connections, on loopback.

Opens N websocket sessions (raw asyncio sockets with a minimal handshake, so
the load generator stays light), each sending its hello and waiting for the
`welcome`; reports how many are held, the time to establish them, consentd's
RSS (VmRSS) with them held, and the round trip of an honest participant's
consent -> durable receipt while they are held. The bench raises its own
RLIMIT_NOFILE (consentd inherits it) and consentd's connection caps for the
run. Python's event loop may be the bottleneck for establishing connections;
the held count and the RSS are not affected by that.

Output: TSV rows (bench, case, median, unit, peer, ratio) for scripts/run-bench.

  consentd-load.py [--connections N] [--quick]
"""

import argparse
import asyncio
import base64
import json
import os
import resource
import statistics
import sys
import time

SRC = os.environ.get("CONSENT_SOURCE_ROOT", os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(SRC, "tests", "integration", "daemon"))
from consentd_fixture import Client, Daemon  # noqa: E402

MAX_CONNECTIONS = 20000
SESSIONS_PER_MEETING = 100


def config(n):
    return ("[limits]\nmax-connections=%d\nmax-connections-per-ip=%d\nhello-timeout-s=120\n"
            "idle-timeout-s=600\nping-interval-s=300\nmax-participants=100000\n" % (n + 16, n + 16))


def frame(payload):
    mask = os.urandom(4)
    n = len(payload)
    head = bytes([0x81]) + (bytes([0x80 | n]) if n < 126 else bytes([0x80 | 126]) + n.to_bytes(2, "big"))
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


async def open_session(port, token):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(("GET /v1/ws HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
                  "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n"
                  "Sec-WebSocket-Protocol: consent.v1\r\n\r\n" % (port, key)).encode())
    await reader.readuntil(b"\r\n\r\n")
    writer.write(frame(json.dumps({"type": "hello", "token": token}).encode()))
    hdr = await reader.readexactly(2)  # the first frame back: the welcome
    n = hdr[1] & 0x7F
    if n == 126:
        n = int.from_bytes(await reader.readexactly(2), "big")
    elif n == 127:
        n = int.from_bytes(await reader.readexactly(8), "big")
    body = await reader.readexactly(n)
    if b'"welcome"' not in body:
        raise RuntimeError("no welcome: %r" % body[:200])
    return reader, writer


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


async def honest_round_trips(d, count):
    c = await Client.connect(d, d.token("load", "honest"))
    await c.expect("welcome")
    st = d.state("load")
    out = []
    for _ in range(count):
        t0 = time.perf_counter()
        await c.send({"type": "consent", "decision": "accept", "notice": st["notice"]["version"],
                      "request": st["request"]})
        await c.expect("recorded", event="accept")
        out.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        await c.send({"type": "withdraw"})
        await c.expect("recorded", event="withdraw")
        out.append((time.perf_counter() - t0) * 1000)
    await c.close()
    return out


async def load(d, n, tokens, rtt_count):
    rss0 = rss_kib(d.proc.pid)
    sem = asyncio.Semaphore(200)  # handshakes in flight
    held, failed = [], []

    async def one(i):
        async with sem:
            try:
                meeting = (i // SESSIONS_PER_MEETING) % (len(tokens) // 5)
                held.append(await open_session(d.port, tokens[meeting * 5 + i % 5]))
            except Exception as e:
                failed.append(repr(e))

    t0 = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(n)))
    setup_s = time.perf_counter() - t0
    await asyncio.sleep(1)
    rss = rss_kib(d.proc.pid)
    rtt = await honest_round_trips(d, rtt_count)
    for _, w in held:
        w.close()
    return len(held), failed, setup_s, rss0, rss, rtt


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--connections", type=int, default=10000)
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args()
    n = min(a.connections, MAX_CONNECTIONS)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, 2 * n + 1024)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, want), hard))
    with Daemon(config=config(n)) as d:
        d.meeting("load")
        d.join("load", "honest")
        d.request_recording("load")
        # Sessions spread over meetings of SESSIONS_PER_MEETING, as on a
        # conference server; the honest participant has a meeting of its own.
        tokens = []
        for m in range(max(1, n // SESSIONS_PER_MEETING)):
            d.meeting("held%d" % m)
            tokens += [d.token("held%d" % m, "p%d" % i, ttl=3600) for i in range(5)]
        held, failed, setup_s, rss0, rss, rtt = asyncio.run(load(d, n, tokens, 10 if a.quick else 50))
        rc = d.stop()
    if failed:
        print("consentd-load: %d sessions failed, first: %s" % (len(failed), failed[0]), file=sys.stderr)
    rtt.sort()
    p99 = rtt[min(len(rtt) - 1, int(0.99 * len(rtt)))]
    print("consentd\tsessions held (of %d asked)\t%d\tsessions\t-\t-" % (n, held))
    print("consentd\tsessions established per second\t%.0f\t/s\t-\t-" % (held / setup_s))
    print("consentd\tRSS with sessions held\t%.1f\tMiB\t-\t-" % (rss / 1024))
    print("consentd\tRSS per session\t%.1f\tKiB\t-\t-" % ((rss - rss0) / max(1, held)))
    print("consentd\treceipt round trip under load (p50)\t%.2f\tms\t-\t-" % statistics.median(rtt))
    print("consentd\treceipt round trip under load (p99)\t%.2f\tms\t-\t-" % p99)
    return 0 if rc == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
