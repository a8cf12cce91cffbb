#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Fail closed when consentd goes away (promise 1), with a live pipeline.

One meeting, one participant who accepts, a gst-launch-1.0 recording
pipeline whose consentgate follows consentd (lease 1.5 s). Then:

  1. consentd stalls (SIGSTOP): no heartbeats, the connection stays up. The
     gate closes by itself ("lease-expired"); no frame after the lease expiry
     is written. consentd resumes (SIGCONT): the gate reopens only on the
     fresh `gate` open that follows the client's new hello.
  2. consentd is killed (SIGKILL): the gate closes at once ("disconnected").
     While it is down the gate stays closed. consentd restarts on the same
     port and state: a kill is an unclean stop, so the recovered meeting
     asks alice again and the gate reopens only after her fresh accept, in
     a new file.

Every file still gets its ledger `segment` record (reports made while the
daemon was down are delivered after the reconnect), and the ledger
verifies. Bounds are structural and generous; nothing here measures speed.
"""

import asyncio
import os
import signal
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e_util as u  # noqa: E402
from consentd_fixture import Client, Daemon  # noqa: E402

MEETING = "outage"
LEASE_S = 1.5
RECORD_S = 2.0


class DaemonOutage(unittest.TestCase):
    def setUp(self):
        self.demo = u.load_demo()
        self.tmp = tempfile.TemporaryDirectory(prefix="consent-e2e-outage-")
        self.state_dir = os.path.join(self.tmp.name, "state")
        self.config = "[server]\nlease-ms=%d\n" % int(LEASE_S * 1000)
        self.daemon = Daemon(state_dir=self.state_dir, config=self.config).start()
        self.daemons = [self.daemon]

    def tearDown(self):
        for d in self.daemons:
            if d.proc is not None:
                try:
                    d.proc.send_signal(signal.SIGCONT)
                except ProcessLookupError:
                    pass
            d.cleanup()
        self.tmp.cleanup()

    def test_outage(self):
        asyncio.run(self.outage())

    async def start_pipeline(self):
        d = self.daemon
        d.meeting(MEETING, title="Outage")
        d.join(MEETING, "alice", name="Alice")
        token_file = os.path.join(self.tmp.name, "recorder.token")
        fd = os.open(token_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(d.token(MEETING, "recorder-1", "recorder"))
        self.location = os.path.join(self.state_dir, "recordings", "e2e")
        os.makedirs(self.location, mode=0o750)
        self.timeline = self.demo.Timeline()
        rec = self.demo.Recorder(u.BUILD_ROOT, d, token_file, self.location,
                                 os.path.join(self.state_dir, "policy.conf"), self.timeline,
                                 meeting=MEETING)
        await rec.start()
        await rec.wait(lambda: rec.playing is not None, "the pipeline to play")
        return rec

    async def accept(self, d):
        alice = await Client.connect(d, d.token(MEETING, "alice"))
        welcome = await alice.expect("welcome")
        req = await alice.expect("request")
        await alice.send({"type": "consent", "decision": "accept",
                          "notice": welcome["notice"]["version"], "request": req["request"]})
        await alice.expect("recorded", event="accept")
        return alice

    async def outage(self):
        rec = await self.start_pipeline()
        try:
            await self.scenario(rec)
        finally:
            if rec.proc.returncode is None:
                rec.proc.kill()
                await rec.proc.wait()

    async def scenario(self, rec):
        d = self.daemon
        d.request_recording(MEETING)
        alice = await self.accept(d)
        first_open = await rec.wait_gate("open")
        await asyncio.sleep(RECORD_S)

        # 1. A stalled daemon: the lease runs out.
        d.proc.send_signal(signal.SIGSTOP)
        stopped = (time.monotonic(), time.time())
        self.timeline.say("test", "consentd stalled (SIGSTOP)")
        closed = await rec.wait_gate("closed")
        print("stall → gate closed after %.0f ms (lease %d ms)" %
              ((closed["mono"] - stopped[0]) * 1000, LEASE_S * 1000))
        self.assertEqual(closed["reason"], "lease-expired")
        self.assertLess(closed["mono"] - stopped[0], LEASE_S + u.SLACK_S * 3)
        await rec.wait(lambda: rec.segments_posted >= 1, "the first segment")
        d.proc.send_signal(signal.SIGCONT)
        resumed = time.monotonic()
        self.timeline.say("test", "consentd resumed (SIGCONT)")
        second_open = await rec.wait_gate("open")
        self.assertGreater(second_open["mono"], resumed)
        self.assertGreaterEqual(second_open["epoch"], first_open["epoch"])
        await asyncio.sleep(RECORD_S)

        # 2. A killed daemon: the connection drops, the gate closes at once.
        port = d.port
        d.kill()
        killed = (time.monotonic(), time.time())
        self.timeline.say("test", "consentd killed (SIGKILL)")
        closed = await rec.wait_gate("closed")
        print("kill → gate closed after %.0f ms" % ((closed["mono"] - killed[0]) * 1000))
        self.assertIn(closed["reason"], ("disconnected", "lease-expired"))
        self.assertLess(closed["mono"] - killed[0], LEASE_S + u.SLACK_S * 3)
        await rec.wait(lambda: rec.segments_posted >= 2, "the second segment")
        # While the daemon is down nothing opens.
        await asyncio.sleep(LEASE_S)
        self.assertEqual(rec.state(), "closed")

        restarted_d = Daemon(state_dir=self.state_dir, config=self.config,
                             args=["--listen", "127.0.0.1:%d" % port])
        self.daemons.append(restarted_d)
        restarted_d.start()
        restarted = (time.monotonic(), time.time())
        self.timeline.say("test", "consentd restarted on the same port and state")
        state = restarted_d.state(MEETING)
        self.timeline.say("test", "recovered meeting: gate %s (%s)" % (state["gate"], state["reason"]))
        # An unclean stop: answers from before the kill do not count, the
        # recovered request asks alice again.
        self.assertEqual(state["gate"], "closed", state)
        self.assertTrue(state["recording"], state)
        self.assertIn("did not stop cleanly", restarted_d.log())
        self.assertEqual(len([e for e in rec.gate_events if e["state"] == "open"]), 2)
        self.assertEqual(rec.state(), "closed")
        before_accept = time.monotonic()
        alice = await self.accept(restarted_d)
        third_open = await rec.wait_gate("open")
        self.assertGreater(third_open["mono"], before_accept,
                           "the gate reopened only after alice's fresh accept")
        await asyncio.sleep(RECORD_S)
        self.assertEqual(await rec.stop(), 0)

        segs = u.segments(self.location)
        opens = [e for e in rec.gate_events if e["state"] == "open"]
        self.assertEqual(len(opens), 3)
        self.assertEqual(len(segs), 3, [s["path"] for s in segs])
        self.assertEqual(len(u.media_files(self.location)), 3)
        # No frame after the lease expiry / the kill was written.
        self.assertLessEqual(segs[0]["end"], stopped[1] + LEASE_S + u.CLOCK_EPS_S)
        self.assertLessEqual(segs[1]["end"], killed[1] + LEASE_S + u.CLOCK_EPS_S)
        # Nothing from the outage: the third file starts after the restart.
        self.assertGreaterEqual(segs[2]["start"], restarted[1] - u.CLOCK_EPS_S)
        print("stall: last frame %.0f ms after SIGSTOP; kill: last frame %.0f ms after SIGKILL" %
              ((segs[0]["end"] - stopped[1]) * 1000, (segs[1]["end"] - killed[1]) * 1000))

        # Segment reports made while the daemon was down reach the ledger
        # once the client is back.
        deadline = time.monotonic() + 30
        while True:
            logged = {r["details"]["sha256"] for r in u.ledger(self.state_dir, MEETING)
                      if r["type"] == "segment"}
            if all(s["sha256"] in logged for s in segs[:2]) or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.5)
        restarted_d.stop()
        logged = {r["details"]["sha256"] for r in u.ledger(self.state_dir, MEETING)
                  if r["type"] == "segment"}
        for s in segs:
            self.assertIn(s["sha256"], logged, "ledger record for " + s["path"])
        out = u.verify_ledger(self.state_dir)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
