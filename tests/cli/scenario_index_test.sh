#!/usr/bin/env bash
# Every scenario file is listed in docs/scenarios.md, and every listed file exists.
set -euo pipefail
root=$1
status=0
for f in "$root"/scenarios/*.yaml; do
  b=$(basename "$f")
  grep -q "\`$b\`" "$root/docs/scenarios.md" || { echo "not in docs/scenarios.md: $b"; status=1; }
done
for b in $(grep -o '`[a-z0-9-]*\.yaml`' "$root/docs/scenarios.md" | tr -d '`' | sort -u); do
  [ -e "$root/scenarios/$b" ] || { echo "docs/scenarios.md lists a missing file: $b"; status=1; }
done
[ "$status" -eq 0 ] && echo "scenario index: ok"
exit "$status"
