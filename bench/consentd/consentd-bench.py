#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""consentd load benchmark: MEETINGS meetings of PARTICIPANTS people each,
all connected at once; every participant accepts one recording request.
Measures, on loopback, the time from sending `consent` to the durable
`recorded` receipt, the time from the last accept to the recorder's `gate`
open, and the accepts per second the daemon makes durable (group commit).

Prints one line per figure and the ratio of the group-commit throughput to
the single-participant (one fsync per accept) rate.

  bench/consentd/consentd-bench.py [--meetings 20] [--participants 10]

Needs a built consentd (CONSENTD=path, or CONSENT_BUILD_ROOT/daemon/consentd).
Only loopback traffic; bounded in count; stops by itself.
"""

import argparse
import asyncio
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "integration", "daemon"))
from consentd_fixture import Client, Daemon  # noqa: E402

CONFIG = """\
[limits]
max-connections=4096
max-connections-per-ip=4096
max-meetings=10000
messages-per-second=1000
hello-timeout-s=60
"""


async def one_meeting(d, mid, n, results):
    d.meeting(mid)
    names = ["p%d" % i for i in range(n)]
    for p in names:
        d.join(mid, p)
    rec = await Client.connect(d, d.token(mid, "rec", "recorder"))
    await rec.expect("gate")
    clients = []
    for p in names:
        c = await Client.connect(d, d.token(mid, p))
        await c.expect("welcome")
        clients.append(c)
    d.request_recording(mid)
    reqs = [await c.expect("request") for c in clients]
    return rec, clients, reqs


async def accept_all(rec, clients, reqs, results):
    async def accept(c, req):
        t0 = time.perf_counter()
        await c.send({"type": "consent", "decision": "accept", "notice": req["notice"],
                       "request": req["request"]})
        await c.expect("recorded", event="accept")
        results["receipt"].append(time.perf_counter() - t0)
    await asyncio.gather(*(accept(c, r) for c, r in zip(clients, reqs)))
    t1 = time.perf_counter()
    await rec.expect("gate", state="open")
    results["gate"].append(time.perf_counter() - t1)


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(p / 100 * len(values)))]


async def run(d, meetings, participants):
    results = {"receipt": [], "gate": []}
    setups = [await one_meeting(d, "bench%d" % i, participants, results) for i in range(meetings)]
    t0 = time.perf_counter()
    await asyncio.gather(*(accept_all(rec, cl, rq, results) for rec, cl, rq in setups))
    elapsed = time.perf_counter() - t0
    for rec, clients, _ in setups:
        for c in [rec] + clients:
            await c.close()
    return results, elapsed


async def serial_rate(d, count):
    """One participant accepting one request after another: one fsync each."""
    rec, (c,), (req,) = await one_meeting(d, "serial", 1, None)
    t0 = time.perf_counter()
    for i in range(count):
        if i:
            d.request_recording("serial")
            req = await c.expect("request")
        await c.send({"type": "consent", "decision": "accept", "notice": req["notice"],
                      "request": req["request"]})
        await c.expect("recorded", event="accept")
    rate = count / (time.perf_counter() - t0)
    await c.close()
    await rec.close()
    return rate


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--meetings", type=int, default=20)
    ap.add_argument("--participants", type=int, default=10)
    ap.add_argument("--serial", type=int, default=50)
    a = ap.parse_args()
    with Daemon(config=CONFIG) as d:
        results, elapsed = asyncio.run(run(d, a.meetings, a.participants))
        serial = asyncio.run(serial_rate(d, a.serial))
        rc = d.stop()
    n = a.meetings * a.participants
    rate = n / elapsed
    r = [x * 1000 for x in results["receipt"]]
    g = [x * 1000 for x in results["gate"]]
    print("participants connected at once: %d in %d meetings" % (n, a.meetings))
    print("accept -> durable receipt: p50 %.1f ms, p99 %.1f ms, max %.1f ms"
          % (statistics.median(r), pct(r, 99), max(r)))
    print("last accept -> gate open at recorder: p50 %.1f ms, max %.1f ms"
          % (statistics.median(g), max(g)))
    print("durable accepts per second, concurrent: %.0f" % rate)
    print("durable accepts per second, one at a time: %.0f" % serial)
    print("ratio concurrent/serial (group commit gain): %.1f" % (rate / serial))
    return 0 if rc == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
