#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Per-participant gates through the real consentd (policy scope=participant).

One gst-launch-1.0 pipeline records alice's and bob's own streams, each
through a consentgate with `server`, `participant` and its own consentsink.
The two gates share one process but follow two different consentd
connections (one per participant):

  - alice accepts → alice's gate opens and her sink writes a segment;
  - bob never answers → his gate stays closed and his sink writes nothing;
  - alice withdraws → her gate closes and the segment is finished.
"""

import asyncio
import os
import re
import signal
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e_util as u  # noqa: E402
from consentd_fixture import Client, Daemon  # noqa: E402

MEETING = "per-participant"
PEOPLE = ("alice", "bob")
# Generous bounds for steps that only wait for something to happen.
STEP_TIMEOUT_S = 90

GATE_RE = re.compile(r'from element "gate_(\w+)".*consent-gate, state=\(string\)(\w+)')
SEGMENT_RE = re.compile(r'from element "sink_(\w+)".*consent-segment')
PLAYING_RE = re.compile(r'from (pipeline|element) "pipeline0" \(state-changed\).*'
                        r'new-state=\(GstState\)(GST_STATE_)?playing', re.IGNORECASE)


class Pipeline:
    """gst-launch-1.0 -e -m with one participant gate and sink per person."""

    def __init__(self, port, token_file, policy_file, locations):
        self.port = port
        self.token_file = token_file
        self.policy_file = policy_file
        self.locations = locations
        self.gates = {p: [] for p in locations}     # gate states in bus order
        self.segments = {p: 0 for p in locations}   # consent-segment messages
        self.playing = False
        self.output = []
        self.changed = asyncio.Event()
        self.proc = None

    def launch_line(self):
        server = "ws://127.0.0.1:%d" % self.port
        line = []
        for i, who in enumerate(sorted(self.locations)):
            line += [
                "consentgate", "name=gate_" + who, "server=" + server, "meeting=" + MEETING,
                "participant=" + who, "token-file=" + self.token_file,
                "consentsink", "name=sink_" + who, "location=" + self.locations[who],
                "policy-file=" + self.policy_file,
                "videotestsrc", "is-live=true", "pattern=%d" % (18 + i), "!",
                "video/x-raw,width=160,height=120,framerate=15/1", "!", "videoconvert", "!",
                "x264enc", "tune=zerolatency", "speed-preset=ultrafast", "key-int-max=15", "!",
                "h264parse", "!", "queue", "!", "gate_%s.sink_0" % who,
                "gate_%s.src_0" % who, "!", "queue", "!", "sink_%s.video_0" % who,
            ]
        return line

    async def start(self):
        env = dict(os.environ)
        preload = os.environ.get("CONSENT_TEST_PRELOAD")
        if preload:
            env["LD_PRELOAD"] = preload + (":" + env["LD_PRELOAD"] if env.get("LD_PRELOAD") else "")
        self.proc = await asyncio.create_subprocess_exec(
            "gst-launch-1.0", "-e", "-m", *self.launch_line(),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, env=env)
        self.reader = asyncio.ensure_future(self._read())

    async def _read(self):
        while True:
            raw = await self.proc.stdout.readline()
            if not raw:
                break
            line = raw.decode("utf-8", "replace").rstrip("\n")
            self.output.append(line)
            m = GATE_RE.search(line)
            if m and m.group(1) in self.gates:
                self.gates[m.group(1)].append(m.group(2))
            m = SEGMENT_RE.search(line)
            if m and m.group(1) in self.segments:
                self.segments[m.group(1)] += 1
            if PLAYING_RE.search(line):
                self.playing = True
            self.changed.set()

    def state(self, who):
        return self.gates[who][-1] if self.gates[who] else "closed"

    async def wait(self, predicate, what):
        deadline = time.monotonic() + STEP_TIMEOUT_S
        while not predicate():
            if self.proc.returncode is not None:
                raise AssertionError("gst-launch-1.0 exited while waiting for %s:\n%s"
                                     % (what, "\n".join(self.output[-40:])))
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("timed out waiting for %s:\n%s"
                                     % (what, "\n".join(self.output[-40:])))
            self.changed.clear()
            try:
                await asyncio.wait_for(self.changed.wait(), min(left, 0.5))
            except asyncio.TimeoutError:
                pass

    async def stop(self):
        """EOS through the pipeline (gst-launch -e on SIGINT); its exit status."""
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                await asyncio.wait_for(self.proc.wait(), STEP_TIMEOUT_S)
            except asyncio.TimeoutError:
                self.proc.kill()
                await self.proc.wait()
                raise AssertionError("gst-launch-1.0 did not stop on EOS:\n"
                                     + "\n".join(self.output[-40:]))
        await self.reader
        return self.proc.returncode


def written_bytes(location):
    return sum(os.path.getsize(p) for p in u.media_files(location))


class ParticipantGates(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="consent-e2e-participant-")
        base = os.path.realpath(self.tmp.name)
        state_dir = os.path.join(base, "state")
        self.policy_file = os.path.join(base, "policy-participant.conf")
        with open(self.policy_file, "w") as f:
            f.write("[consent]\nscope=participant\n[storage]\nroots=%s;\n"
                    % os.path.join(state_dir, "recordings"))
        self.d = Daemon(state_dir=state_dir,
                        config="[state]\npolicy-file=%s\n" % self.policy_file)
        self.d.start()

    def tearDown(self):
        rc = self.d.stop()
        self.d.cleanup()
        self.tmp.cleanup()
        self.assertEqual(rc, 0, "consentd did not exit cleanly")

    def test_each_gate_follows_its_participant(self):
        asyncio.run(self.each_gate_follows_its_participant())

    def write_token_file(self):
        token = self.d.token(MEETING, "recorder-1", "recorder")
        path = os.path.join(self.tmp.name, "recorder.token")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(token)
        return path

    async def each_gate_follows_its_participant(self):
        d = self.d
        d.meeting(MEETING)
        for who in PEOPLE:
            d.join(MEETING, who)
        locations = {}
        for who in PEOPLE:
            locations[who] = os.path.join(d.state_dir, "recordings", MEETING, who)
            os.makedirs(locations[who], mode=0o750)
        pipe = Pipeline(d.port, self.write_token_file(), self.policy_file, locations)
        await pipe.start()
        try:
            await pipe.wait(lambda: pipe.playing, "the pipeline to play")
            d.request_recording(MEETING)
            alice = await Client.connect(d, d.token(MEETING, "alice"))
            welcome = await alice.expect("welcome")
            req = await alice.expect("request")
            await alice.send({"type": "consent", "decision": "accept",
                              "notice": welcome["notice"]["version"],
                              "request": req["request"]})
            await alice.expect("recorded", event="accept")
            await pipe.wait(lambda: pipe.state("alice") == "open", "alice's gate to open")
            # Media reaches alice's file; the gate opened at a keyframe.
            await pipe.wait(lambda: written_bytes(locations["alice"]) > 0,
                            "alice's sink to write media")

            await alice.send({"type": "withdraw"})
            await alice.expect("recorded", event="withdraw")
            await pipe.wait(lambda: pipe.state("alice") == "closed", "alice's gate to close")
            await pipe.wait(lambda: pipe.segments["alice"] >= 1, "alice's segment")
            await alice.close()
            self.assertEqual(await pipe.stop(), 0, "\n".join(pipe.output[-40:]))
        finally:
            if pipe.proc.returncode is None:
                pipe.proc.kill()
                await pipe.proc.wait()

        output = "\n".join(pipe.output[-60:])
        print("gate states:", pipe.gates, "segments:", pipe.segments,
              "files:", {w: u.media_files(loc) for w, loc in locations.items()})
        self.assertEqual(pipe.gates["alice"].count("open"), 1, output)
        self.assertEqual(pipe.state("alice"), "closed", output)
        self.assertEqual(pipe.segments["alice"], 1, output)
        segs = u.segments(locations["alice"])
        self.assertEqual(len(segs), 1, output)
        self.assertGreater(os.path.getsize(segs[0]["path"]), 0)
        # Bob never answered: his gate never opened, his sink wrote nothing.
        self.assertNotIn("open", pipe.gates["bob"], output)
        self.assertEqual(pipe.segments["bob"], 0, output)
        self.assertEqual(u.media_files(locations["bob"]), [], output)
        self.assertEqual(u.segments(locations["bob"]), [], output)


if __name__ == "__main__":
    unittest.main(verbosity=2)
