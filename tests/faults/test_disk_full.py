#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A full disk under the ledger (promise 1, "never retry a failed fsync").

The state directory's `ledger/` is a small tmpfs (the test needs root to
mount it). With the gate open, the tmpfs is filled; once a record cannot be
written the ledger fails closed: the recorder's gate closes (reason
`ledger-failed`), /healthz says so, and a participant's answer gets an
`error` and no receipt. When space returns, a restart keeps the gate
closed (the failed run left the unclean-stop marker, so everyone is asked
again) until participants accept anew, and the ledger verifies.
"""

import asyncio
import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import faults_util as u  # noqa: E402

MEETING = "full"
TMPFS_SIZE = "4m"


def mount_tmpfs(path):
    os.makedirs(path, mode=0o700, exist_ok=True)
    out = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%s,mode=0700" % TMPFS_SIZE,
                          "tmpfs", path], capture_output=True, text=True)
    return out.returncode == 0, out.stderr.strip()


def fill(path):
    """Writes until ENOSPC; returns the filler file's path."""
    filler = os.path.join(path, "filler.bin")
    block = b"\0" * 65536
    with open(filler, "wb") as f:
        try:
            while True:
                f.write(block)
                f.flush()
        except OSError:
            pass
    # Also use up the last partial blocks and inodes.
    n = 0
    try:
        while n < 100000:
            with open(os.path.join(path, "fill-%d" % n), "wb") as f:
                f.write(b"x")
            n += 1
    except OSError:
        pass
    return filler


def unfill(path):
    for name in os.listdir(path):
        if name == "filler.bin" or name.startswith("fill-"):
            os.unlink(os.path.join(path, name))


class DiskFull(unittest.TestCase):
    def test_disk_full(self):
        with tempfile.TemporaryDirectory(prefix="consent-faults-full-") as tmp:
            state = os.path.join(tmp, "state")
            ledger = os.path.join(state, "ledger")
            os.makedirs(state, mode=0o700)
            ok, why = mount_tmpfs(ledger)
            if not ok:
                self.fail("cannot mount a tmpfs for the ledger (run as root): " + why)
            d = u.Daemon(state_dir=state)
            try:
                d.start()
                u.run(self.scenario(d, ledger))
                d.stop()
                unfill(ledger)
                d.start()
                u.run(self.recovered(d))
                self.assertEqual(d.stop(), 0)
                rc, out = u.audit_verify(state)
                self.assertEqual(rc, 0, out)
            finally:
                d.cleanup()
                subprocess.run(["umount", "-l", ledger])

    async def scenario(self, d, ledger):
        d.meeting(MEETING)
        d.join(MEETING, "alice")
        d.join(MEETING, "bob")
        d.request_recording(MEETING)
        req = u.request_of(d.state(MEETING))
        rec = await u.Client.connect(d, d.token(MEETING, "rec", "recorder"))
        alice = await u.Client.connect(d, d.token(MEETING, "alice"))
        bob = await u.Client.connect(d, d.token(MEETING, "bob"))
        await alice.expect("welcome")
        await bob.expect("welcome")
        await u.consent(alice, req)
        await alice.expect("recorded", event="accept")
        await u.consent(bob, req)
        await bob.expect("recorded", event="accept")
        await rec.expect("gate", state="open")

        fill(ledger)
        # The segment's last page may still take a few records: new sessions
        # (each records a notice-shown) until the ledger fails. None of this
        # closes the gate by itself.
        for _ in range(500):
            if d.http("GET", "/healthz", token=False)[0] != 200:
                break
            c = await u.Client.connect(d, d.token(MEETING, "alice"))
            await c.expect("welcome")
            await c.close()
        status, body, _ = d.http("GET", "/healthz", token=False)
        print("healthz: %s %s" % (status, body))
        self.assertEqual(status, 503)
        closed = await rec.expect("gate", state="closed")
        print("gate closed: %s" % closed.get("reason"))
        self.assertEqual(closed.get("reason"), "ledger-failed")
        # Nothing is admitted: bob's answer gets a clear error, no receipt.
        await bob.send({"type": "withdraw"})
        await u.consent(bob, req)
        try:
            err = await bob.expect("error", timeout=30)
        except (AssertionError, asyncio.TimeoutError):
            self.fail("no error for a consent the ledger cannot record; bob saw %s" % bob.seen)
        print("participant error: %s: %s" % (err.get("code"), err.get("message")))
        self.assertTrue(err.get("message"))
        self.assertIn("ledger", d.log())
        # Nothing opens while the ledger is failed.
        await asyncio.sleep(1.0)
        self.assertFalse(any(m.get("type") == "recorded" for m in bob.seen[bob.seen.index(err):]))
        self.assertFalse(any(m.get("type") == "gate" and m.get("state") == "open"
                             for m in rec.seen[rec.seen.index(closed) + 1:]))
        for c in (rec, alice, bob):
            await c.close()

    async def recovered(self, d):
        status, _, _ = d.http("GET", "/healthz", token=False)
        self.assertEqual(status, 200)
        rec = await u.Client.connect(d, d.token(MEETING, "rec", "recorder"))
        g = await rec.expect("gate")
        st = d.state(MEETING)
        answers = {p["id"]: p["answer"] for p in st["participants"]}
        print("after restart: gate %s, answers %s" % (g["state"], answers))
        # The withdrawal the full disk could not record is unknown after the
        # restart, so the ledger's earlier accepts must not reopen the gate:
        # the run that failed left consentd.unclean behind, and consentd asks
        # everyone again (fail closed).
        self.assertEqual(g["state"], "closed", g)
        self.assertFalse(any(a == "accepted" for a in answers.values()), answers)
        self.assertIn("did not stop cleanly", d.log())
        # Consent is admitted and made durable again, and only fresh accepts
        # open the gate.
        req = u.request_of(st)
        receipts = []
        for p in ("alice", "bob"):
            c = await u.Client.connect(d, d.token(MEETING, p))
            await c.expect("welcome")
            await u.consent(c, req)
            receipts.append((await c.expect("recorded", event="accept"))["record"])
            if p == "alice":
                self.assertFalse(any(m.get("type") == "gate" and m.get("state") == "open"
                                     for m in rec.seen), rec.seen)
            await c.close()
        g = await rec.expect("gate", state="open")
        self.assertTrue(set(receipts) <= set(g["authorized-by"]), (receipts, g))
        await rec.close()

if __name__ == "__main__":
    unittest.main(verbosity=2)
