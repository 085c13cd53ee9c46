#!/bin/sh
# Runs one scenario twice with --trace and checks the traces are identical byte for byte, that the
# printed digest is `sha256sum` of the trace file, and that the trace's end event names the SHA-256
# of the kept supersafe.db's content (the file without its preallocated zero tail). The first run
# is on the memory disk, the second on real files: the traces must not differ.
# Usage: determinism.sh SUPERSAFE SCENARIO
set -eu
exe=$1
scenario=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$exe" sim "$scenario" --trace "$dir/one.jsonl" > "$dir/one.out"
"$exe" sim "$scenario" --trace "$dir/two.jsonl" --datadir "$dir/data" > "$dir/two.out"
cmp "$dir/one.jsonl" "$dir/two.jsonl"
grep digest "$dir/one.out" > "$dir/one.digest"
grep digest "$dir/two.out" > "$dir/two.digest"
cmp "$dir/one.digest" "$dir/two.digest"
test -s "$dir/one.jsonl"
trace_sha=$(sha256sum "$dir/one.jsonl" | cut -d' ' -f1)
grep -q "digest 0x$trace_sha" "$dir/one.out"
db_sha=$(python3 -c 'import hashlib, sys; print(hashlib.sha256(open(sys.argv[1], "rb").read().rstrip(b"\0")).hexdigest())' "$dir/data/supersafe.db")
tail -n 1 "$dir/two.jsonl" | grep "\"supersafe.db\":\"0x$db_sha\"" >/dev/null
echo "deterministic: $(cat "$dir/one.digest")"
