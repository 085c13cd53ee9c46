#!/usr/bin/env bash
# A fuzz campaign in CI: 2,000 generated cases of the default profile on the memory disk must pass
# and produce every event the profile weights (--require-coverage); the same seeds split into two
# shards and merged give the same summary; --jobs does not change a summary; a band of longer
# cases on real files passes too. SUPERSAFE_CAMPAIGN_SEEDS (default 2000) and
# SUPERSAFE_CAMPAIGN_POSIX_SEEDS (default 60) size the two bands: the sanitizer stage of
# scripts/test runs smaller ones.
set -euo pipefail
seeds=${SUPERSAFE_CAMPAIGN_SEEDS:-2000}
posix_seeds=${SUPERSAFE_CAMPAIGN_POSIX_SEEDS:-60}
supersafe=$(realpath "$1")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

"$supersafe" fuzz --seeds "$seeds" --require-coverage --json all.json --out failures > all.out ||
  { cat all.out; echo "the campaign failed"; exit 1; }
"$supersafe" fuzz --seeds "$seeds" --shard 1/2 --json one.json --out failures > /dev/null
"$supersafe" fuzz --seeds "$seeds" --shard 2/2 --json two.json --jobs 1 --out failures > /dev/null
"$supersafe" fuzz merge one.json two.json > merged.json
SEEDS=$seeds python3 - <<'PY'
import json, os
full = json.load(open("all.json"))
merged = json.load(open("merged.json"))
assert full["ran"] == int(os.environ["SEEDS"]), full["ran"]
assert full["failed"] == [], full["failed"]
assert full["never_produced"] == [], full["never_produced"]
for key in ("ran", "passed", "failed", "discarded", "coverage", "never_produced"):
    assert full[key] == merged[key], (key, full[key], merged[key])
print("fuzz campaign:", full["ran"], "cases,", full["passed"], "passed;", "coverage", full["coverage"])
PY

printf 'steps: 100\n' > long.yaml
"$supersafe" fuzz --profile long.yaml --seeds "$posix_seeds" --disk posix --json posix.json --out failures > posix.out ||
  { cat posix.out; echo "the campaign on real files failed"; exit 1; }
echo "fuzz campaign: ok"
