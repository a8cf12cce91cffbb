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
import socket
import statistics
import subprocess
import sys
import time

SRC = os.environ.get("CONSENT_SOURCE_ROOT", os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(SRC, "tests", "integration", "daemon"))
from consentd_fixture import Client, Daemon  # noqa: E402

MAX_CONNECTIONS = 20000
SESSIONS_PER_MEETING = 100


def config(n):
    return ("[limits]\nmax-connections=%d\nmax-connections-per-ip=%d\nhello-timeout-s=120\n"
            "idle-timeout-s=600\nping-interval-s=300\nmax-participants=100000\n"
            "messages-per-second=10000\nmax-meetings=100000\n" % (n + 16, n + 16))


def frame(payload):
    mask = os.urandom(4)
    n = len(payload)
    head = bytes([0x81]) + (bytes([0x80 | n]) if n < 126 else bytes([0x80 | 126]) + n.to_bytes(2, "big"))
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


async def read_frame(reader):
    hdr = await reader.readexactly(2)
    n = hdr[1] & 0x7F
    if n == 126:
        n = int.from_bytes(await reader.readexactly(2), "big")
    elif n == 127:
        n = int.from_bytes(await reader.readexactly(8), "big")
    return await reader.readexactly(n)


async def open_session(port, token, expect=b'"welcome"'):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(("GET /v1/ws HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
                  "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n"
                  "Sec-WebSocket-Protocol: consent.v1\r\n\r\n" % (port, key)).encode())
    await reader.readuntil(b"\r\n\r\n")
    writer.write(frame(json.dumps({"type": "hello", "token": token}).encode()))
    body = await read_frame(reader)  # consentd: the welcome; the echo: the hello
    if expect and expect not in body:
        raise RuntimeError("no welcome: %r" % body[:200])
    return reader, writer


async def message_round_trips(port, token, count, expect, reply):
    """A second hello: consentd parses it and answers an error without
    touching any state; the echo server sends it back. Milliseconds."""
    reader, writer = await open_session(port, token, expect)
    try:  # what the server sends after the welcome (request, state)
        while True:
            await asyncio.wait_for(read_frame(reader), 0.5)
    except asyncio.TimeoutError:
        pass
    hello = frame(json.dumps({"type": "hello", "token": token}).encode())
    out = []
    for _ in range(count):
        t0 = time.perf_counter()
        writer.write(hello)
        while reply not in await read_frame(reader):
            pass
        out.append((time.perf_counter() - t0) * 1000)
        await asyncio.sleep(0.002)
    writer.close()
    return out


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


async def hold(port, pid, n, tokens, expect):
    """Opens @n sessions; returns (held, failed, setup seconds, RSS before, RSS after)."""
    rss0 = rss_kib(pid)
    sem = asyncio.Semaphore(200)  # handshakes in flight
    held, failed = [], []

    async def one(i):
        async with sem:
            try:
                meeting = (i // SESSIONS_PER_MEETING) % (len(tokens) // 5)
                held.append(await open_session(port, tokens[meeting * 5 + i % 5], expect))
            except Exception as e:
                failed.append(repr(e))

    t0 = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(n)))
    setup_s = time.perf_counter() - t0
    await asyncio.sleep(1)
    return held, failed, setup_s, rss0, rss_kib(pid)


async def run_consentd(d, n, tokens, rtt_count):
    held, failed, setup_s, rss0, rss = await hold(d.port, d.proc.pid, n, tokens, b'"welcome"')
    receipts = await honest_round_trips(d, rtt_count)
    msgs = await message_round_trips(d.port, tokens[0], rtt_count * 2, b'"welcome"', b'"error"')
    for _, w in held:
        w.close()
    return len(held), failed, setup_s, rss0, rss, receipts, msgs


async def run_echo(port, pid, n, rtt_count):
    tokens = ["echo"] * 5
    held, failed, setup_s, rss0, rss = await hold(port, pid, n, tokens, None)
    msgs = await message_round_trips(port, "echo", rtt_count * 2, None, b'"hello"')
    for _, w in held:
        w.close()
    return len(held), failed, setup_s, rss0, rss, msgs


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def echo_figures(n, rtt_count):
    binary = os.path.join(os.environ.get("CONSENT_BUILD_ROOT", os.path.join(SRC, "build-bench")),
                          "bench", "connections", "lws-echo")
    if not os.access(binary, os.X_OK):
        return None
    port = free_port()
    proc = subprocess.Popen([binary, str(port)], stdout=subprocess.PIPE)
    try:
        proc.stdout.readline()  # "listening on PORT"
        return asyncio.run(run_echo(port, proc.pid, n, rtt_count))
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def p99(values):
    values = sorted(values)
    return values[min(len(values) - 1, int(0.99 * len(values)))]


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
        rtt_count = 10 if a.quick else 50
        held, failed, setup_s, rss0, rss, receipts, msgs = asyncio.run(
            run_consentd(d, n, tokens, rtt_count))
        rc = d.stop()
    if failed:
        print("consentd-load: %d sessions failed, first: %s" % (len(failed), failed[0]),
              file=sys.stderr)
    echo = echo_figures(n, rtt_count)
    row = "consentd\t%s\t%s\t%s\t%s\t%s"
    ratio = lambda x, y: "%.3f" % (x / y) if y else "-"  # noqa: E731
    print(row % ("sessions held (of %d asked)" % n, held, "sessions", "lws-echo" if echo else "-",
                 ratio(held, echo[0]) if echo else "-"))
    if echo:
        print(row % ("lws-echo: sessions held (of %d asked)" % n, echo[0], "sessions", "-", "-"))
    print(row % ("sessions established per second", "%.0f" % (held / setup_s), "/s", "-", "-"))
    print(row % ("RSS with sessions held", "%.1f" % (rss / 1024), "MiB", "-", "-"))
    print(row % ("RSS per session", "%.1f" % ((rss - rss0) / max(1, held)), "KiB",
                 "lws-echo" if echo else "-",
                 ratio((rss - rss0) / max(1, held), (echo[4] - echo[3]) / max(1, echo[0]))
                 if echo else "-"))
    if echo:
        print(row % ("lws-echo: RSS per session", "%.1f" % ((echo[4] - echo[3]) / max(1, echo[0])),
                     "KiB", "-", "-"))
    print(row % ("message round trip, sessions held (p50)", "%.3f" % statistics.median(msgs), "ms",
                 "lws-echo" if echo else "-",
                 ratio(statistics.median(msgs), statistics.median(echo[5])) if echo else "-"))
    print(row % ("message round trip, sessions held (p99)", "%.3f" % p99(msgs), "ms",
                 "lws-echo" if echo else "-", ratio(p99(msgs), p99(echo[5])) if echo else "-"))
    if echo:
        print(row % ("lws-echo: message round trip (p50)", "%.3f" % statistics.median(echo[5]),
                     "ms", "-", "-"))
        print(row % ("lws-echo: message round trip (p99)", "%.3f" % p99(echo[5]), "ms", "-", "-"))
    print(row % ("durable receipt round trip, sessions held (p50)",
                 "%.2f" % statistics.median(receipts), "ms", "-", "-"))
    print(row % ("durable receipt round trip, sessions held (p99)", "%.2f" % p99(receipts), "ms",
                 "-", "-"))
    return 0 if rc == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
