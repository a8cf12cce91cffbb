#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""consentgate with `server` set, in gst-launch-1.0:

  - an unreadable token file is an error message that says so, and the
    pipeline does not run;
  - with every debug log of the client and the gate turned up, the recorder
    token appears nowhere in the output (it lives in its file only), while
    the gate still follows consentd (opens on consent, stops on EOS).
"""

import asyncio
import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e_util as u  # noqa: E402
from consentd_fixture import Client, Daemon  # noqa: E402

MEETING = "gate-client"


def gst_env(extra=None):
    env = dict(os.environ)
    preload = os.environ.get("CONSENT_TEST_PRELOAD")
    if preload:
        env["LD_PRELOAD"] = preload
    env.update(extra or {})
    return env


class GateClient(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="consent-e2e-gate-")

    def tearDown(self):
        self.tmp.cleanup()

    def test_unreadable_token_file_is_an_error(self):
        missing = os.path.join(self.tmp.name, "no-such.token")
        out = subprocess.run(
            ["gst-launch-1.0", "-e", "videotestsrc", "num-buffers=30", "!", "consentgate",
             "server=ws://127.0.0.1:9", "meeting=m1", "token-file=" + missing, "!", "fakesink"],
            capture_output=True, text=True, timeout=120, env=gst_env())
        print(out.stdout[-2000:], out.stderr[-2000:])
        self.assertNotEqual(out.returncode, 0)
        text = out.stdout + out.stderr
        self.assertIn("ERROR", text)
        self.assertIn("recorder token", text)
        self.assertIn(missing, text)

    def test_token_never_logged(self):
        asyncio.run(self.token_never_logged())

    async def token_never_logged(self):
        demo = u.load_demo()
        d = Daemon(state_dir=os.path.join(self.tmp.name, "state")).start()
        try:
            d.meeting(MEETING)
            d.join(MEETING, "alice")
            token = d.token(MEETING, "recorder-1", "recorder")
            token_file = os.path.join(self.tmp.name, "recorder.token")
            fd = os.open(token_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(token)
            location = os.path.join(d.state_dir, "recordings", "gate-client")
            os.makedirs(location, mode=0o750)
            os.environ["GST_DEBUG"] = "consentclient:9,consentgate:9,consentsink:6"
            try:
                rec = demo.Recorder(u.BUILD_ROOT, d, token_file, location,
                                    os.path.join(d.state_dir, "policy.conf"), demo.Timeline(),
                                    meeting=MEETING)
                await rec.start()
            finally:
                del os.environ["GST_DEBUG"]
            try:
                await rec.wait(lambda: rec.playing is not None, "the pipeline to play")
                d.request_recording(MEETING)
                alice = await Client.connect(d, d.token(MEETING, "alice"))
                welcome = await alice.expect("welcome")
                req = await alice.expect("request")
                await alice.send({"type": "consent", "decision": "accept",
                                  "notice": welcome["notice"]["version"],
                                  "request": req["request"]})
                await rec.wait_gate("open")
                self.assertEqual(await rec.stop(), 0)
            finally:
                if rec.proc.returncode is None:
                    rec.proc.kill()
                    await rec.proc.wait()
            output = "\n".join(rec.output)
            self.assertIn("consentclient", output, "the client's debug log was on")
            self.assertNotIn(token, output)
            # Not even a recognisable piece of it (its signature part).
            self.assertNotIn(token.rsplit(".", 1)[-1], output)
        finally:
            d.stop()
            d.cleanup()


if __name__ == "__main__":
    unittest.main(verbosity=2)
