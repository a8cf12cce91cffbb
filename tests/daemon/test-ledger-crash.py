#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Crash safety: a writer is killed with SIGKILL at random points at least 200
times (each restart recovers the previous crash); every record it acknowledged
must still be there with the same hash, and the ledger must verify."""
import os
import random
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ledgerlib import HELPER, helper, verify

KILLS = 200
BUDGET_S = 240  # a hard stop far above the usual run time; never a pass condition


def one_run(state, acked, delay, after_first_ack):
    p = subprocess.Popen([HELPER, "crash", state], stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL)
    sel = selectors.DefaultSelector()
    sel.register(p.stdout, selectors.EVENT_READ)
    buf = b""
    # either a fixed delay from the start (kills during open and recovery), or
    # a delay counted from the first acknowledgement (kills amid appends)
    end = time.monotonic() + (5.0 if after_first_ack else delay)
    while time.monotonic() < end:
        for _ in sel.select(timeout=max(0, end - time.monotonic())):
            chunk = os.read(p.stdout.fileno(), 65536)
            if not chunk:
                end = 0
                break
            if after_first_ack and b"\n" in chunk and not buf.count(b"\n"):
                end = time.monotonic() + delay
            buf += chunk
    p.send_signal(signal.SIGKILL)
    buf += p.stdout.read()
    p.wait()
    sel.close()
    p.stdout.close()
    # only whole lines were acknowledged
    for line in buf.split(b"\n")[:-1]:
        seq, digest = line.decode().split()
        if acked.get(seq, digest) != digest:
            raise AssertionError(f"seq {seq} acknowledged twice with different hashes")
        acked[seq] = digest
    return p.returncode


def main():
    seed = int(os.environ.get("LEDGER_CRASH_SEED", random.randrange(1 << 30)))
    rng = random.Random(seed)
    print(f"seed {seed}")
    root = tempfile.mkdtemp(prefix="ledger-crash-")
    state = os.path.join(root, "state")
    acked = {}
    kills = 0
    start = time.monotonic()
    try:
        while kills < KILLS:
            if time.monotonic() - start > BUDGET_S:
                print(f"only {kills} kills within {BUDGET_S} s")
                return 1
            # mostly short runs (kills during open and recovery), some longer
            after_first_ack = rng.random() < 0.6
            delay = rng.uniform(0, 0.03)
            rc = one_run(state, acked, delay, after_first_ack)
            if rc == -signal.SIGKILL:
                kills += 1
            elif rc != 0:
                print(f"the writer exited with {rc} before it was killed")
                return 1
        print(f"{kills} kills, {len(acked)} acknowledged records, "
              f"{time.monotonic() - start:.1f} s")
        helper("open", state)  # recover the last crash
        present = {}
        for line in helper("list", state).splitlines():
            seq, digest = line.split()
            present[seq] = digest
        lost = [s for s, d in acked.items() if present.get(s) != d]
        if lost:
            print(f"{len(lost)} acknowledged records lost or changed, e.g. {sorted(lost)[:5]}")
            return 1
        rc, out, err = verify(state, key=os.path.join(state, "audit.key"))
        print(out.strip(), err.strip())
        if rc != 0:
            return 1
        if not acked:
            print("no record was ever acknowledged: the test proved nothing")
            return 1
        return 0
    finally:
        shutil.rmtree(root, ignore_errors=True)


sys.exit(main())
