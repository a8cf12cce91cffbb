#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Instructions per buffer (valgrind --tool=callgrind), repeatable on a noisy
# machine: each case runs with N and 2N buffers and the difference of the
# total instruction counts is divided by N, so start-up costs cancel.
# Output: TSV rows (bench, case, median, unit, peer, ratio) for run-bench.
#
#   gate-callgrind.sh GATE_BENCH [N]
set -euo pipefail
bench="$1"
n="${2:-20000}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

instructions() { # case buffers -> total Ir
  valgrind --tool=callgrind --callgrind-out-file="$work/out" \
    "$bench" --only "$1" --reps 1 --buffers "$2" >/dev/null 2>"$work/log"
  sed -n 's/.*Collected : *\([0-9]*\).*/\1/p' "$work/log" | tail -1
}

declare -A per
for c in identity valve-open consentgate-open valve-drop consentgate-closed; do
  a="$(instructions "$c" "$n")"
  b="$(instructions "$c" $((2 * n)))"
  per[$c]=$(( (b - a) / n ))
done
row() { # case peer
  if [ -n "$2" ]; then
    printf 'callgrind\t%s, 1 stream\t%d\tinstr/buffer\t%s\t%s\n' "$1" "${per[$1]}" "$2" \
      "$(awk -v x="${per[$1]}" -v y="${per[$2]}" 'BEGIN { printf "%.3f", x / y }')"
  else
    printf 'callgrind\t%s, 1 stream\t%d\tinstr/buffer\t-\t-\n' "$1" "${per[$1]}"
  fi
}
row identity ""
row valve-open identity
row consentgate-open valve-open
row valve-drop ""
row consentgate-closed valve-drop
