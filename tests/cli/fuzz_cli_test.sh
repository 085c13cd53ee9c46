#!/usr/bin/env bash
# `supersafe fuzz`: a band of seeds passes and writes nothing; --shard I/N runs every N-th seed;
# bad arguments and profiles exit 2 with a message naming what is wrong.
set -euo pipefail
supersafe=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

out=$("$supersafe" fuzz --seeds 4 --seed-start 10 --out "$work/failures")
grep -q "^supersafe fuzz: seeds 10..13 (shard 1/1)" <<< "$out" || { echo "header: $out"; exit 1; }
grep -q "^fuzz: 4 seeds, [0-9]* passed, 0 failed" <<< "$out" || { echo "summary: $out"; exit 1; }
[ ! -e "$work/failures" ] || { echo "a passing run created the failure directory"; exit 1; }

# A discarded seed (a step the generated world could not do) is named, with why.
out=$("$supersafe" fuzz --seeds 3 --seed-start 225 --out "$work/failures")
grep -q "^discarded seeds (.*): 226$" <<< "$out" || { echo "discarded seeds: $out"; exit 1; }
grep -q "^  seed 226: step [0-9]* (line [0-9]*, " <<< "$out" || { echo "why seed 226 was discarded: $out"; exit 1; }

out=$("$supersafe" fuzz --seeds 10 --seed-start 1 --shard 2/3 --out "$work/failures")
grep -q "^fuzz: 3 seeds," <<< "$out" || { echo "shard 2/3 of 10 seeds: $out"; exit 1; }

expect_usage_error() {
  set +e
  msg=$("$supersafe" fuzz "$@" 2>&1)
  rc=$?
  set -e
  [ "$rc" -eq 2 ] || { echo "fuzz $*: exit $rc, want 2: $msg"; exit 1; }
  grep -q "$want" <<< "$msg" || { echo "fuzz $*: message '$msg' does not name '$want'"; exit 1; }
}
want="want I/N" expect_usage_error --seeds 1 --shard 3
want="1 <= I <= N" expect_usage_error --seeds 1 --shard 4/3
want="want a whole number of zero or more, got '-1'" expect_usage_error --seeds -1
want="want a whole number of zero or more, got '-5'" expect_usage_error --seeds 1 --seed-start -5
TMPDIR="$work/missing" want="no temporary directory (TMPDIR)" expect_usage_error --seeds 1 --disk posix --out "$work/failures"
printf 'steps: 10\ncolour: red\n' > "$work/profile.yaml"
want="colour: unknown key" expect_usage_error --seeds 1 --profile "$work/profile.yaml"
echo "fuzz cli: ok"
