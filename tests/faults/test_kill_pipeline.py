#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""SIGKILL of the recording pipeline (gst-launch-1.0 with consentgate and
consentsink following consentd).

Each round starts a pipeline, lets the gate open, closes and reopens it
once (so one file is finished normally) and kills the pipeline while the
second file is being written. Afterwards every finished file has a
manifest whose sha256 and size match the file, every file — also the one
cut off by the kill — plays (ffprobe reads its streams and packets), and
the ledger verifies.

FAULTS_PIPELINE_ROUNDS (default 3) sets the number of kills.
"""

import asyncio
import glob
import hashlib
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.environ["CONSENT_SOURCE_ROOT"], "tests", "integration", "e2e"))
import faults_util as u  # noqa: E402
import e2e_util  # noqa: E402

ROUNDS = int(os.environ.get("FAULTS_PIPELINE_ROUNDS", "3"))
MEETING = "killrec"
RECORD_S = 1.5


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class KillPipeline(unittest.TestCase):
    def test_kill_pipeline(self):
        demo = e2e_util.load_demo()
        with tempfile.TemporaryDirectory(prefix="consent-faults-rec-") as tmp:
            state = os.path.join(tmp, "state")
            d = u.Daemon(state_dir=state).start()
            try:
                d.meeting(MEETING)
                d.join(MEETING, "alice")
                d.request_recording(MEETING)
                token_file = os.path.join(tmp, "recorder.token")
                fd = os.open(token_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "w") as f:
                    f.write(d.token(MEETING, "rec", "recorder"))
                location = os.path.join(state, "recordings", "faults")
                os.makedirs(location, mode=0o750)
                for i in range(ROUNDS):
                    asyncio.run(self.round(demo, d, token_file, location, i))
                self.check_files(location)
                self.assertEqual(d.stop(), 0)
                rc, out = u.audit_verify(state)
                self.assertEqual(rc, 0, out)
            finally:
                d.cleanup()

    async def round(self, demo, d, token_file, location, i):
        rec = demo.Recorder(u.BUILD_ROOT, d, token_file, location,
                            os.path.join(d.state_dir, "policy.conf"), demo.Timeline(),
                            meeting=MEETING)
        await rec.start()
        try:
            alice = await u.Client.connect(d, d.token(MEETING, "alice"))
            await alice.expect("welcome")
            req = u.request_of(d.state(MEETING))
            if i == 0:
                await u.consent(alice, req)
                await alice.expect("recorded", event="accept")
            await rec.wait_gate("open")
            await asyncio.sleep(RECORD_S)
            await alice.send({"type": "withdraw"})
            await rec.wait_gate("closed")
            await rec.wait(lambda: rec.segments_posted >= 1, "a finished file")
            await u.consent(alice, req)
            await alice.expect("recorded", event="accept")
            await rec.wait_gate("open")
            await asyncio.sleep(RECORD_S)
            rec.proc.kill()
            await rec.proc.wait()
            await alice.close()
        finally:
            if rec.proc.returncode is None:
                rec.proc.kill()
                await rec.proc.wait()

    def check_files(self, location):
        manifests = glob.glob(os.path.join(location, "**", "*.manifest.json"), recursive=True)
        media = e2e_util.media_files(location)
        print("%d files, %d with a manifest" % (len(media), len(manifests)))
        self.assertGreaterEqual(len(manifests), ROUNDS)
        self.assertGreater(len(media), len(manifests))  # the cut-off files have none
        for man in e2e_util.segments(location):
            self.assertEqual(sha256_file(man["path"]), man["sha256"], man["path"])
            self.assertEqual(os.path.getsize(man["path"]), man["size"], man["path"])
        for path in media:
            info = e2e_util.probe(path)
            self.assertTrue(info.get("streams"), path)
            self.assertTrue(info.get("packets"), "%s has no packets" % path)


if __name__ == "__main__":
    unittest.main(verbosity=2)
