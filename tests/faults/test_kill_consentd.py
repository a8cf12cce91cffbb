#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""SIGKILL of consentd in a loop under load (promises 1, 5, 8).

Each iteration starts consentd on the same state directory, runs one
meeting (a recorder and participants answering at once) and kills the
daemon at a random instant while answers are in flight. After each restart:
every acknowledged consent (a `recorded` receipt reached the participant)
is in the ledger; every `gate` open a recorder saw is authorized by durable
records only; since the run was killed, the restored meeting asks everyone
again (no one counts as having accepted, a withdrawal may have been lost)
and a recorder that connects to the restarted daemon sees the gate closed. At the end `consentctl audit verify` passes.

FAULTS_KILL_ITERATIONS (default 200) sets the number of kills.
"""

import asyncio
import os
import random
import signal
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import faults_util as u  # noqa: E402

ITERATIONS = int(os.environ.get("FAULTS_KILL_ITERATIONS", "200"))
KILLS_PER_STATE = 50
PEOPLE = ("p0", "p1", "p2")
CONFIG = "[limits]\nhello-timeout-s=30\n"


class KillConsentd(unittest.TestCase):
    def test_kill_loop(self):
        rng = random.Random(int.from_bytes(os.urandom(4), "little"))
        done = 0
        while done < ITERATIONS:
            n = min(KILLS_PER_STATE, ITERATIONS - done)
            self.kill_loop(rng, n)
            done += n
        print("%d kills in all" % done)

    def kill_loop(self, rng, iterations):
        # A fresh state directory every KILLS_PER_STATE kills: each start
        # scans the whole chain, and a long one would only make the loop slow.
        with tempfile.TemporaryDirectory(prefix="consent-faults-kill-") as tmp:
            d = u.Daemon(state_dir=os.path.join(tmp, "state"), config=CONFIG)
            pending = []  # (meeting, acked {participant: record}, opens) of the killed run
            try:
                for i in range(iterations):
                    d.start()
                    self.check_after_restart(d, pending)
                    pending = [u.run(self.flow_then_kill(d, "k%d" % i, rng.uniform(0, 0.03)))]
                d.start()
                self.check_after_restart(d, pending)
                u.run(self.recorder_sees_truth(d, "k%d" % (iterations - 1)))
                self.assertEqual(d.stop(), 0)
                rc, out = u.audit_verify(d.state_dir)
                self.assertEqual(rc, 0, out)
                print("%d kills; ledger of %d records verifies" %
                      (iterations, len(u.ledger_records(d.state_dir))))
            finally:
                d.cleanup()

    def check_after_restart(self, d, pending):
        durable = u.ledger_ids(d.state_dir)
        for meeting, acked, opens in pending:
            for g in opens:
                self.assertTrue(set(g["authorized-by"]) <= durable,
                                "%s: recorder saw open %s before it was durable" % (meeting, g))
            for p, record in acked.items():
                self.assertIn(record, durable,
                              "%s: acknowledged consent of %s not in the ledger" % (meeting, p))
            # A kill is an unclean stop: answers from before it do not count.
            answers = {p["id"]: p["answer"] for p in d.state(meeting)["participants"]
                       if p["present"]}
            self.assertFalse(any(a == "accepted" for a in answers.values()),
                             "%s: answers from before the kill survived: %s" % (meeting, answers))

    async def flow_then_kill(self, d, meeting, delay):
        d.meeting(meeting)
        for p in PEOPLE:
            d.join(meeting, p)
        d.request_recording(meeting)
        req = u.request_of(d.state(meeting))
        rec = await u.Client.connect(d, d.token(meeting, "rec", "recorder"))
        clients = {}
        for p in PEOPLE:
            clients[p] = await u.Client.connect(d, d.token(meeting, p))
        for p in PEOPLE:
            await clients[p].expect("welcome")
        await asyncio.gather(*(u.consent(c, req) for c in clients.values()))
        await asyncio.sleep(delay)
        d.stop(signal.SIGKILL)
        acked = {}
        for p, c in clients.items():
            _, msgs = await c.expect_close()
            for m in c.seen + msgs:
                if m.get("type") == "recorded" and m.get("event") == "accept":
                    acked[p] = m["record"]
        _, msgs = await rec.expect_close()
        opens = [m for m in rec.seen + msgs if m.get("type") == "gate" and m.get("state") == "open"]
        return meeting, acked, opens

    async def recorder_sees_truth(self, d, meeting):
        rec = await u.Client.connect(d, d.token(meeting, "rec2", "recorder"))
        g = await rec.expect("gate")
        st = d.state(meeting)
        everyone = all(p["answer"] == "accepted" for p in st["participants"] if p["present"])
        self.assertEqual(g["state"] == "open", everyone, (g, st))
        # The last run was killed: everyone is asked again, the gate is closed.
        self.assertEqual(g["state"], "closed", (g, st))
        await rec.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
