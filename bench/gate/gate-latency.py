#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Gate close and open latency in a running recording pipeline.

consentd, one participant, and the demo's recording pipeline (gst-launch-1.0:
live video through x264enc, which honours the gate's force-key-unit request,
and audio, through consentgate following consentd into consentsink). Per
iteration:
  open:  the participant's accept is sent -> the gate's `consent-gate` open
         message (posted as the first buffer goes out, at a keyframe), and
  close: the participant's withdraw is sent -> the `consent-gate` closed
         message; also -> a second recorder connection receives `gate` closed.
Times are CLOCK_MONOTONIC stamps taken when this process reads the messages
(gst-launch-1.0 -m prints them): they include a pipe hop of well under a
millisecond. Output: TSV rows (bench, case, median, unit, peer, ratio).

  gate-latency.py [--iterations 50]
"""

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time

SRC = os.environ.get("CONSENT_SOURCE_ROOT", os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("CONSENT_BUILD_ROOT", os.path.join(SRC, "build-bench"))
sys.path.insert(0, os.path.join(SRC, "tests", "integration", "daemon"))
sys.path.insert(0, os.path.join(SRC, "tests", "integration", "e2e"))
os.environ.setdefault("CONSENT_SOURCE_ROOT", SRC)
os.environ.setdefault("CONSENT_BUILD_ROOT", BUILD)
from consentd_fixture import Client, Daemon  # noqa: E402
import e2e_util  # noqa: E402

MEETING = "latency"


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(p / 100 * len(values)))]


async def measure(d, demo, tmp, iterations):
    d.meeting(MEETING)
    d.join(MEETING, "alice")
    d.request_recording(MEETING)
    token_file = os.path.join(tmp, "recorder.token")
    fd = os.open(token_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(d.token(MEETING, "rec", "recorder"))
    location = os.path.join(d.state_dir, "recordings", "bench")
    os.makedirs(location, mode=0o750)
    rec = demo.Recorder(BUILD, d, token_file, location, os.path.join(d.state_dir, "policy.conf"),
                        demo.Timeline(), meeting=MEETING)
    rec.timeline.say = lambda *a, **k: None  # quiet
    await rec.start()
    watcher = await Client.connect(d, d.token(MEETING, "rec2", "recorder"))
    await watcher.expect("gate")
    alice = await Client.connect(d, d.token(MEETING, "alice"))
    await alice.expect("welcome")
    st = d.state(MEETING)
    req = {"notice": st["notice"]["version"], "request": st["request"]}
    opens, closes, ws_closes = [], [], []
    try:
        for _ in range(iterations):
            n = len(rec.gate_events)
            t0 = time.monotonic()
            await alice.send({"type": "consent", "decision": "accept", **req})
            await rec.wait(lambda: any(e["state"] == "open" for e in rec.gate_events[n:]), "open")
            opens.append(next(e for e in rec.gate_events[n:] if e["state"] == "open")["mono"] - t0)
            await watcher.expect("gate", state="open")
            await asyncio.sleep(0.3)
            n = len(rec.gate_events)
            t0 = time.monotonic()
            await alice.send({"type": "withdraw"})
            await watcher.expect("gate", state="closed")
            ws_closes.append(time.monotonic() - t0)
            await rec.wait(lambda: any(e["state"] == "closed" for e in rec.gate_events[n:]), "closed")
            closes.append(next(e for e in rec.gate_events[n:] if e["state"] == "closed")["mono"] - t0)
            await asyncio.sleep(0.2)
    finally:
        await rec.stop()
    return opens, closes, ws_closes


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--iterations", type=int, default=50)
    a = ap.parse_args()
    n = max(1, min(a.iterations, 1000))
    os.environ.setdefault("GST_PLUGIN_PATH", os.path.join(BUILD, "plugin"))
    demo = e2e_util.load_demo()
    with tempfile.TemporaryDirectory(prefix="gate-latency-") as tmp:
        with Daemon(state_dir=os.path.join(tmp, "state")) as d:
            opens, closes, ws_closes = asyncio.run(measure(d, demo, tmp, n))
    for name, v in (("open: accept sent -> first buffer out", opens),
                    ("close: withdraw sent -> gate closed in pipeline", closes),
                    ("close: withdraw sent -> recorder ws gets gate closed", ws_closes)):
        ms = [x * 1000 for x in v]
        print("latency\t%s (p50, n=%d)\t%.1f\tms\t-\t-" % (name, len(ms), statistics.median(ms)))
        print("latency\t%s (p99, n=%d)\t%.1f\tms\t-\t-" % (name, len(ms), pct(ms, 99)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
