#!/usr/bin/env bash
# `supersafe db verify` and `db dump` on a data directory the simulator wrote: a clean directory
# verifies (also against its dependency set); one flipped byte is reported with file and offset and
# exit 1; dump prints the header, then every entry,
# and --json gives one object per line.
set -euo pipefail
supersafe=$1
scenario=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$supersafe" sim "$scenario" --datadir "$work/data" >/dev/null

# Without a temporary directory, a run on real files is refused with a message, not an abort; on the
# memory disk (the default) it needs none.
TMPDIR="$work/missing" "$supersafe" sim "$scenario" >/dev/null || { echo "sim on the memory disk needs TMPDIR"; exit 1; }
set +e
msg=$(TMPDIR="$work/missing" "$supersafe" sim "$scenario" --disk posix 2>&1)
rc=$?
set -e
[ "$rc" -eq 2 ] && grep -q "no temporary directory (TMPDIR)" <<< "$msg" ||
  { echo "sim without TMPDIR: exit $rc: $msg"; exit 1; }
out=$("$supersafe" db verify "$work/data")
grep -q " 0 findings" <<< "$out" || { echo "clean verify: $out"; exit 1; }

# The entries end where the preallocated zero tail starts (one past the last nonzero byte, rounded up
# to a whole entry); dump says how long the tail is.
content=$(python3 -c 'import sys; b = open(sys.argv[1], "rb").read(); print(len(b.rstrip(b"\0")))' "$work/data/supersafe.db")
entries=$(( (content + 89) / 90 ))
tail=$(( $(stat -c %s "$work/data/supersafe.db") - entries * 90 ))
lines=$("$supersafe" db dump "$work/data" | grep -c " L1 #")
[ "$lines" -eq $((entries - 1)) ] || { echo "dump printed $lines entry lines for $entries entries, the header one of them"; exit 1; }
# The header entry first: magic, version, and the digest of the quickstart's chains 900, 901, 902.
header=$("$supersafe" db dump "$work/data" | sed -n 1p)
grep -Eq "^0 header magic SUPERSAFE version 1 dependency-set digest 0x[0-9a-f]{64}$" <<< "$header" ||
  { echo "dump does not start with the header: $header"; exit 1; }
echo '{"dependencies": {"902": {}, "900": {}, "901": {}}}' > "$work/deps.json"
out=$("$supersafe" db verify "$work/data" --dependency-set "$work/deps.json")
grep -q " 0 findings" <<< "$out" || { echo "verify with the dependency set: $out"; exit 1; }
echo '{"dependencies": {"900": {}, "901": {}}}' > "$work/other.json"
set +e
out=$("$supersafe" db verify "$work/data" --dependency-set "$work/other.json")
rc=$?
set -e
[ $rc -eq 1 ] && grep -q "supersafe.db:12: dependency-set digest: expected 0x" <<< "$out" ||
  { echo "verify for another dependency set exited $rc: $out"; exit 1; }
"$supersafe" db dump "$work/data" | grep "zero tail of $tail bytes" >/dev/null || { echo "dump did not report the $tail-byte zero tail"; exit 1; }
"$supersafe" db dump "$work/data" --json | python3 -c '
import json, sys
rows = [json.loads(l) for l in sys.stdin]
assert any(r.get("type") == "seal" for r in rows), "no seal in --json dump"
assert any("logs" in r for r in rows), "no event-log block in --json dump"
'

cp -r "$work/data" "$work/broken"
printf '\xff' | dd of="$work/broken/supersafe.db" bs=1 seek=400 conv=notrunc status=none
set +e
out=$("$supersafe" db verify "$work/broken")
rc=$?
set -e
[ $rc -eq 1 ] || { echo "verify of a damaged file exited $rc"; exit 1; }
grep -Eq "supersafe\.db:[0-9]+: " <<< "$out" || { echo "no file:offset finding: $out"; exit 1; }
cmp -s "$work/data/supersafe.db" "$work/broken/supersafe.db" && { echo "damage did not land"; exit 1; }

set +e
"$supersafe" db verify "$work/missing" >/dev/null 2>&1
rc=$?
set -e
[ $rc -eq 1 ] || { echo "verify of a missing directory exited $rc"; exit 1; }
echo "db cli: ok"
