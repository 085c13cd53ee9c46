#!/usr/bin/env bash
# `supersafe export`: every fixtures/<scenario>/ directory is exported again from
# scenarios/<scenario>.yaml and compared byte for byte (the diff is shown on failure); each export
# runs twice and must give the same bytes; every scenario with `games:` has its fixtures checked in.
# Bad input gets a non-zero exit and a message naming what was wrong, never a crash.
set -euo pipefail
supersafe=$1
root=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=0

for f in "$root"/scenarios/*.yaml; do
  grep -q '^games:' "$f" || continue
  name=$(basename "$f" .yaml)
  [ -d "$root/fixtures/$name" ] || { echo "scenarios/$name.yaml has games but no fixtures/$name"; status=1; }
done
for dir in "$root"/fixtures/*/; do
  name=$(basename "$dir")
  scenario="$root/scenarios/$name.yaml"
  [ -f "$scenario" ] || { echo "fixtures/$name: no scenarios/$name.yaml"; status=1; continue; }
  "$supersafe" export "$scenario" --out "$work/a" >/dev/null
  "$supersafe" export "$scenario" --out "$work/b" >/dev/null
  diff -r "$work/a/$name" "$work/b/$name" >/dev/null || { echo "$name: two exports differ"; status=1; }
  if ! diff -r "$dir" "$work/a/$name" >"$work/diff"; then
    echo "$name: the export differs from fixtures/$name (regenerate: supersafe export scenarios/$name.yaml --out fixtures)"
    head -c 4000 "$work/diff"
    status=1
  fi
done

# expect_error TEXT ARGS...: `supersafe export ARGS` fails cleanly (exit 1..127) saying TEXT.
expect_error() {
  local want=$1 out rc
  shift
  set +e
  out=$("$supersafe" export "$@" 2>&1)
  rc=$?
  set -e
  if [ "$rc" -eq 0 ] || [ "$rc" -ge 128 ]; then echo "export $*: exit $rc, want a clean failure"; status=1; fi
  grep -qF -- "$want" <<< "$out" || { echo "export $*: the message lacks '$want': $out"; status=1; }
}
one="$root/scenarios/fp-game-poststate-not-cross-safe-at-l1-head.yaml"
expect_error "no games" "$root/scenarios/quickstart.yaml" --out "$work/x"
expect_error "--steps-per-timestamp 0: want at least the chain count + 1 = 3" "$one" --out "$work/x" --steps-per-timestamp 0
expect_error "--steps-per-timestamp 2: want at least the chain count + 1 = 3" "$one" --out "$work/x" --steps-per-timestamp 2
expect_error "steps-per-timestamp" "$one" --out "$work/x" --steps-per-timestamp abc
expect_error "steps-per-timestamp" "$one" --out "$work/x" --steps-per-timestamp -1
sed 's/prestate: 1001, poststate: 1002/prestate: 1002, poststate: 1002/' "$one" >"$work/same.yaml"
expect_error "games[0].poststate: must be after prestate" "$work/same.yaml" --out "$work/x"
sed 's/l1_head: 1,/l1_head: 9,/' "$one" >"$work/far.yaml"
expect_error "games[0]: l1_head 9 is beyond the L1 head #2" "$work/far.yaml" --out "$work/x"
touch "$work/file"
expect_error "cannot create" "$one" --out "$work/file"
expect_error "missing.yaml" "$work/missing.yaml" --out "$work/x"
[ ! -e "$work/x" ] || { echo "a failed export wrote $work/x"; status=1; }

# --seed overrides the file's seed, and the fixture says which seed it used.
"$supersafe" export "$one" --out "$work/s" --seed 5 >/dev/null
grep -q '^  "seed": 5,$' "$work/s/fp-game-poststate-not-cross-safe-at-l1-head/game-1-1001-1002.json" ||
  { echo "--seed 5 is not the fixture's seed"; status=1; }

[ "$status" -eq 0 ] && echo "export cli: ok"
exit "$status"
