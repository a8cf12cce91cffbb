#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A ledger that fails under a running consentd (its disk fills up): every
gate closes with "ledger-failed", /healthz answers 503, answers and admin
changes are refused with "ledger-failed", and the daemon stays up.

The state directory's ledger/ is a small tmpfs of its own, mounted in a
private mount namespace that consentd is started in (unshare), so nothing
outside the test sees it. The test fills that tmpfs through
/proc/<pid>/root and lets consentd write until a write fails for real.
Without mount namespaces (no privileges for unshare) the test is skipped
(exit 77), never counted as passed."""

import errno
import os
import shutil
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from consentd_fixture import Client, Daemon, run  # noqa: E402

SKIP = 77

# Mounts a tmpfs on $1 (the ledger directory), then becomes consentd.
MOUNT_SCRIPT = ('set -e; umask 077; d="$1"; shift; mkdir -p "$d"; '
                'mount -t tmpfs -o size=1m,mode=0700 consent-ledger-test "$d"; exec "$@"')


def namespace_wrapper():
    """An argv prefix that runs the rest in a private mount namespace, or None."""
    unshare = shutil.which("unshare")
    if unshare is None:
        return None
    prefix = [unshare, "--mount", "--propagation", "private"]
    if os.geteuid() != 0:
        prefix[1:1] = ["--user", "--map-root-user"]
    probe = subprocess.run(prefix + ["/bin/sh", "-c", "mount -t tmpfs -o size=64k t /mnt"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return prefix if probe.returncode == 0 else None


def fill(path):
    """Writes @path until the filesystem is full; returns the bytes written."""
    chunk = b"\0" * 65536
    written = 0
    with open(path, "wb", buffering=0) as f:
        while True:
            try:
                n = f.write(chunk)
            except OSError as e:
                if e.errno != errno.ENOSPC:
                    raise
                return written
            written += n
            if n < len(chunk):
                chunk = chunk[:max(1, len(chunk) // 2)]


class LedgerFailureTest(unittest.TestCase):
    def test_full_disk_fails_closed(self):
        prefix = namespace_wrapper()
        if prefix is None:
            print("cannot make a private mount namespace here (unshare); skipping")
            sys.exit(SKIP)
        d = Daemon()
        ledger_dir = os.path.join(d.state_dir, "ledger")
        d.wrapper = prefix + ["/bin/sh", "-c", MOUNT_SCRIPT, "sh", ledger_dir]
        d.start()
        try:
            run(self._flow(d, ledger_dir))
            # Still up after all of it, and it stops cleanly.
            self.assertIsNone(d.proc.poll())
            self.assertEqual(d.stop(), 0)
        finally:
            d.cleanup()

    async def _flow(self, d, ledger_dir):
        d.meeting("lf")
        d.join("lf", "alice")
        d.request_recording("lf")
        st = d.state("lf")
        consent = {"type": "consent", "decision": "accept", "notice": st["notice"]["version"],
                   "request": st["request"]}
        rec = await Client.connect(d, d.token("lf", "rec", "recorder"))
        await rec.expect("gate", state="closed")
        # A meeting nobody asked to record: its recorder's gate is closed already.
        d.meeting("idle")
        idle = await Client.connect(d, d.token("idle", "rec", "recorder"))
        self.assertNotEqual((await idle.expect("gate", state="closed"))["reason"], "ledger-failed")
        alice = await Client.connect(d, d.token("lf", "alice"))
        await alice.expect("welcome")
        await alice.send(consent)
        await alice.expect("recorded", event="accept")
        await rec.expect("gate", state="open")
        self.assertEqual(d.http("GET", "/healthz", token=None)[0], 200)

        # The disk fills up (seen from inside consentd's mount namespace).
        inside = "/proc/%d/root%s" % (d.proc.pid, ledger_dir)
        self.assertTrue(os.path.isdir(inside), inside)
        self.assertGreater(fill(os.path.join(inside, "filler")), 0)

        # Records of another meeting go on until one no longer fits in the
        # page the segment already has; that write fails and the ledger fails
        # closed. Bounded: a failing ledger is expected well before this.
        d.meeting("junk")
        failed = False
        for i in range(400):
            status, _, _ = d.http("PUT", "/v1/meetings/junk/participants/p%d" % i,
                                  {"display-name": "Participant %d " % i + "x" * 200})
            if status == 503 or d.http("GET", "/healthz", token=None)[0] == 503:
                failed = True
                break
        self.assertTrue(failed, "the ledger never failed although its disk is full")
        # It failed for the honest reason: its disk is full.
        self.assertIn("No space left on device", d.log())

        # The recorder of the open meeting is told to close, for that reason.
        g = await rec.expect("gate", state="closed")
        self.assertEqual(g["reason"], "ledger-failed")
        # Already-closed gates are told the new reason too.
        g = await idle.expect("gate", state="closed")
        self.assertEqual(g["reason"], "ledger-failed")
        # Participants see the gate closed.
        await alice.expect("state", gate="closed")
        status, body, _ = d.http("GET", "/healthz", token=None)
        self.assertEqual((status, body["status"]), (503, "ledger-failed"))

        # No answer is taken, nothing that would be recorded is admitted.
        await alice.send(consent)
        self.assertEqual((await alice.expect("error"))["code"], "ledger-failed")
        status, body, _ = d.http("PUT", "/v1/meetings/lf/participants/bob", {})
        self.assertEqual((status, body["error"]), (503, "ledger-failed"))
        status, body, _ = d.http("POST", "/v1/meetings/lf/recording", {"action": "request"})
        self.assertEqual((status, body["error"]), (503, "ledger-failed"))
        # Reading still works and shows the gate closed, and why.
        st = d.state("lf")
        self.assertEqual((st["gate"], st["reason"]), ("closed", "ledger-failed"))
        for c in (rec, idle, alice):
            await c.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
