#!/bin/sh
# Runs one scenario twice with --trace and checks the traces are identical byte for byte.
# Usage: determinism.sh SUPERSAFE SCENARIO
set -eu
exe=$1
scenario=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$exe" sim "$scenario" --trace "$dir/one.jsonl" > "$dir/one.out"
"$exe" sim "$scenario" --trace "$dir/two.jsonl" > "$dir/two.out"
cmp "$dir/one.jsonl" "$dir/two.jsonl"
grep digest "$dir/one.out" > "$dir/one.digest"
grep digest "$dir/two.out" > "$dir/two.digest"
cmp "$dir/one.digest" "$dir/two.digest"
test -s "$dir/one.jsonl"
echo "deterministic: $(cat "$dir/one.digest")"
