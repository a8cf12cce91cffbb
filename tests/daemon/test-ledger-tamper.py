#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The tamper corpus: every case, generated here from a fresh ledger, must make
`consentctl audit verify` exit 1 (and the untouched ledger must exit 0)."""
import concurrent.futures
import json
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ledgerlib import (CTL, canon, copy_state, evolve, helper, read_key, read_segments,
                       run, seal, verify, write_segments)

failures = []
n_cases = 0
pending = []  # (what, future): verifications run a few at a time
pool = concurrent.futures.ThreadPoolExecutor(max_workers=3)


def build_base(root, name, rounds=3, per_round=12):
    state = os.path.join(root, name)
    for _ in range(rounds):
        helper("write", state, str(per_round))
    return state


def expect(rc_out_err, want, what):
    global n_cases
    n_cases += 1
    rc, out, err = rc_out_err
    if rc != want:
        failures.append(f"{what}: exit {rc}, wanted {want}\n  {out.strip()} {err.strip()}")


def case(base, root, what, mutate, key=False, witness=None, drop_checkpoint=False):
    """Copies the base state, applies mutate(state, ledger), verifies; expects exit 1."""
    global n_cases
    n_cases += 1
    state = os.path.join(root, f"case-{n_cases}")
    copy_state(base, state)
    ledger = os.path.join(state, "ledger")
    if drop_checkpoint:
        os.unlink(os.path.join(ledger, "checkpoint.json"))
    mutate(state, ledger)
    keyfile = os.path.join(state, "audit.key") if key else None
    pending.append((what, state, pool.submit(verify, state, key=keyfile, witness=witness)))


def collect():
    for what, state, future in pending:
        rc, out, err = future.result()
        if rc != 1:
            failures.append(f"{what}: exit {rc}, wanted 1\n  {out.strip()} {err.strip()}")
        shutil.rmtree(state, ignore_errors=True)
    pending.clear()


def flat(segs):
    return [(si, li) for si, (_, lines) in enumerate(segs) for li in range(len(lines))]


def main():
    root = tempfile.mkdtemp(prefix="ledger-tamper-")
    try:
        run_corpus(root)
        collect()
    finally:
        pool.shutdown()
        shutil.rmtree(root, ignore_errors=True)
    print(f"{n_cases} cases, {len(failures)} undetected")
    for f in failures:
        print("UNDETECTED:", f)
    sys.exit(1 if failures else 0)


def run_corpus(root):
    base = build_base(root, "base")
    other = build_base(root, "other")
    key = os.path.join(base, "audit.key")
    witness = os.path.join(root, "witness")
    rc, out, err = run([CTL, "audit", "checkpoint", "--state-dir", base])
    assert rc == 0, err
    with open(witness, "w") as f:
        f.write(out)

    # controls: the untouched ledger verifies, with and without key and witness
    expect(verify(base), 0, "control without key")
    expect(verify(base, key=key, witness=witness), 0, "control with key and witness")
    segs = read_segments(os.path.join(base, "ledger"))
    positions = flat(segs)
    total = len(positions)
    assert total >= 30, total
    # the writer's lines are exactly the canonical form the docs define
    for _, lines in segs:
        for line in lines:
            assert canon(json.loads(line)).encode() == line, line

    def edit(fn):
        def mutate(state, ledger):
            s = read_segments(ledger)
            fn(s)
            write_segments(ledger, s)
        return mutate

    # 1. a flipped byte anywhere in any record (no key needed)
    for n, (si, li) in enumerate(positions):
        line = segs[si][1][li]
        for pos in {(n * 37 + 11) % len(line), len(line) - 3}:
            def flip(s, si=si, li=li, pos=pos):
                b = bytearray(s[si][1][li])
                b[pos] ^= 0x01
                s[si][1][li] = bytes(b)
            case(base, root, f"flip byte {pos} of record {n}", edit(flip))

    # 2. delete, duplicate, and swap with the next record
    for n, (si, li) in enumerate(positions):
        case(base, root, f"delete record {n}", edit(lambda s, si=si, li=li: s[si][1].pop(li)))
        case(base, root, f"duplicate record {n}",
             edit(lambda s, si=si, li=li: s[si][1].insert(li, s[si][1][li])))
        if li + 1 < len(segs[si][1]):
            def swap(s, si=si, li=li):
                l = s[si][1]
                l[li], l[li + 1] = l[li + 1], l[li]
            case(base, root, f"swap records {n} and {n + 1}", edit(swap))

    # 3. truncation at every record boundary, and mid-line in the last record;
    #    the local checkpoint is removed too, so only the witness can tell
    for keep in range(total):
        def truncate(s, keep=keep):
            count = 0
            for seg in s:
                seg[1][:] = seg[1][:max(0, keep - count)]
                count += len(seg[1])
            s[:] = [seg for seg in s if seg[1]]
        case(base, root, f"truncate to {keep} records", edit(truncate), witness=witness,
             drop_checkpoint=True)
    last_name = segs[-1][0]
    last_line_len = len(segs[-1][1][-1])
    for cut in (1, last_line_len // 2, last_line_len):
        def torn(state, ledger, cut=cut):
            path = os.path.join(ledger, last_name)
            size = os.path.getsize(path)
            os.truncate(path, size - cut)
        case(base, root, f"cut {cut} bytes off the last line", torn, witness=witness,
             drop_checkpoint=True)

    # 4. records spliced in from another ledger (same positions)
    osegs = read_segments(os.path.join(other, "ledger"))
    for n, (si, li) in enumerate(positions[:min(total, len(flat(osegs)))]):
        def splice(s, si=si, li=li):
            s[si][1][li] = osegs[si][1][li]
        case(base, root, f"splice record {n} from another ledger", edit(splice))
    case(base, root, "another ledger's last segment",
         edit(lambda s: s.__setitem__(-1, (s[-1][0], osegs[-1][1]))))

    # 5. rollback to an older copy when a later witness is given
    older = os.path.join(root, "older")
    copy_state(base, older)
    newer = os.path.join(root, "newer")
    copy_state(base, newer)
    helper("write", newer, "5")
    later_witness = os.path.join(root, "later-witness")
    rc, out, _ = run([CTL, "audit", "checkpoint", "--state-dir", newer])
    with open(later_witness, "w") as f:
        f.write(out)
    expect(verify(newer, witness=later_witness), 0, "control: newer ledger with its witness")
    expect(verify(older, witness=later_witness), 1, "rollback to an older copy")

    # 6. re-sealing old records with a later epoch key (what a thief of the
    #    current key could do), re-chaining everything after
    k0 = read_key(key)
    last_epoch = json.loads(segs[-1][1][0])["key-epoch"]
    k_last = evolve(k0, last_epoch)
    for n in (1, 5, total // 2):
        for relabel in (False, True):
            def reseal(s, n=n, relabel=relabel):
                prev = None
                for i, (si, li) in enumerate(flat(s)):
                    rec = json.loads(s[si][1][li])
                    if i < n:
                        prev = rec["hash"]
                        continue
                    if i == n:
                        rec["actor"] = "admin"
                    if relabel:
                        rec["key-epoch"] = last_epoch
                    rec["prev"] = prev
                    seal(rec, k_last)
                    prev = rec["hash"]
                    s[si][1][li] = canon(rec).encode()
            case(base, root, f"re-seal from record {n} with the epoch {last_epoch} key"
                 f"{' (relabelled)' if relabel else ''}", edit(reseal), key=True,
                 drop_checkpoint=True)

    # 7. a rewritten record with a consistent hash chain: the checkpoint's
    #    root catches it without a key
    def rechain(s):
        prev = None
        for i, (si, li) in enumerate(flat(s)):
            rec = json.loads(s[si][1][li])
            if i == 3:
                rec["type"] = "decline"
            if prev is not None:
                rec["prev"] = prev
            rec["hash"] = __import__("hashlib").sha256(
                canon({k: v for k, v in rec.items() if k != "hash"}).encode()).hexdigest()
            prev = rec["hash"]
            s[si][1][li] = canon(rec).encode()
    case(base, root, "rewritten record with a re-hashed chain", edit(rechain))

    # 8. seals stripped (hashes recomputed) while a key is given
    def strip(s):
        prev = None
        for si, li in flat(s):
            rec = json.loads(s[si][1][li])
            rec.pop("mac", None)
            if prev is not None:
                rec["prev"] = prev
            rec.pop("hash")
            rec["hash"] = __import__("hashlib").sha256(canon(rec).encode()).hexdigest()
            prev = rec["hash"]
            s[si][1][li] = canon(rec).encode()
    case(base, root, "seals stripped", edit(strip), key=True, drop_checkpoint=True)

    # 9. the wrong key
    def wrong_key(state, ledger):
        with open(os.path.join(state, "audit.key"), "w") as f:
            f.write(os.urandom(32).hex() + "\n")
    case(base, root, "wrong key", wrong_key, key=True)

    # 10. a forged checkpoint
    def forged_checkpoint(state, ledger):
        path = os.path.join(ledger, "checkpoint.json")
        with open(path) as f:
            cp = json.loads(f.read())
        cp["size"] += 1
        with open(path, "w") as f:
            f.write(canon(cp) + "\n")
    case(base, root, "forged checkpoint", forged_checkpoint)

    # 11. a whole segment deleted
    def drop_segment(state, ledger):
        os.unlink(os.path.join(ledger, segs[1][0]))
    case(base, root, "middle segment deleted", drop_segment)
    def drop_first(state, ledger):
        os.unlink(os.path.join(ledger, segs[0][0]))
    case(base, root, "first segment deleted", drop_first)


main()
