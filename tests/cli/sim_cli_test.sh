#!/usr/bin/env bash
# `supersafe sim` with bad input: each bad file gets one line naming the file, the line and what is
# wrong, never a raw control byte; the other files of the run still run; exit 1 (2 for usage, and for
# an output path that cannot be written, refused before anything runs). `sim --check` parses and
# validates only.
set -euo pipefail
supersafe=$(realpath "$1")  # the script runs in its own directory
root=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=0
fail() { echo "FAILED: $*"; status=1; }

cd "$work"
cp "$root/scenarios/quickstart.yaml" good.yaml
printf '\177ELF\002\001\001\000\000\000\033[2J\033]0;owned\007\n' > binary.yaml
printf 'name: t\nchains:\n\t- {name: A, id: 1}\nsteps: []\n' > tabs.yaml
{ printf 'name: t\nchains: '; head -c 20000 /dev/zero | tr '\0' '['; head -c 20000 /dev/zero | tr '\0' ']'; printf '\nsteps: []\n'; } > deep.yaml
mkdir a-directory

# run ARGS...: sets $out (stdout and stderr) and $rc.
run() {
  set +e
  out=$("$supersafe" "$@" 2>&1)
  rc=$?
  set -e
}
# Nothing but printable text and line feeds reaches the terminal.
printable_only() { ! printf '%s' "$out" | tr -d '\n' | LC_ALL=C grep -q '[[:cntrl:]]'; }
has_line() { grep -qxF -- "$1" <<< "$out" || fail "$2: no line '$1' in: $out"; }

run sim binary.yaml tabs.yaml deep.yaml missing.yaml a-directory good.yaml
[ "$rc" -eq 1 ] || fail "bad files: exit $rc, want 1"
printable_only || fail "bad files: a control byte reached the output"
has_line "FAIL binary.yaml:1: not a text file: byte 0x7f at column 1 (a scenario is YAML in UTF-8)" binary
has_line "FAIL tabs.yaml:3: (yaml): a tab in the indentation; YAML indents with spaces only" tabs
has_line "FAIL deep.yaml:2: (yaml): collections nested too deeply (the reader stops at depth 500)" deep
has_line "FAIL missing.yaml: no such file" missing
has_line "FAIL a-directory: is a directory, not a scenario file" directory
grep -q '^PASS quickstart ' <<< "$out" || fail "the good file did not run after the bad ones: $out"
has_line "5 failed" summary

# An output path that cannot be written is refused before anything runs.
for args in "good.yaml --timeline nowhere/t.html" "good.yaml --timeline a-directory" \
            "good.yaml good.yaml --timeline nowhere/t.html" "good.yaml --trace nowhere/t.jsonl"; do
  # shellcheck disable=SC2086
  run sim $args
  [ "$rc" -eq 2 ] || fail "sim $args: exit $rc, want 2"
  [ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ] || fail "sim $args: want one line, got: $out"
  grep -q '^supersafe sim: --t[a-z]* .*: cannot write' <<< "$out" || fail "sim $args: $out"
  grep -q '^scenario ' <<< "$out" && fail "sim $args: a scenario ran"
done
chmod 555 a-directory
if [ ! -w a-directory ]; then  # not as root
  run sim good.yaml --timeline a-directory/t.html
  [ "$rc" -eq 2 ] && grep -q "directory a-directory is not writable" <<< "$out" || fail "read-only dir: $rc $out"
fi
chmod 755 a-directory

# Usage errors.
run sim --no-such-option good.yaml
[ "$rc" -eq 2 ] || fail "unknown option: exit $rc, want 2"
run sim
[ "$rc" -eq 2 ] || fail "no file: exit $rc, want 2"

# --check: parse and validate only.
run sim --check "$root"/scenarios/*.yaml
[ "$rc" -eq 0 ] || fail "--check scenarios/*.yaml: exit $rc: $out"
has_line "all valid" "--check"
grep -q '^scenario \|^PASS' <<< "$out" && fail "--check ran a scenario"
run sim --check good.yaml
[ "$rc" -eq 0 ] || fail "--check good.yaml: exit $rc"
has_line "OK good.yaml: quickstart, 3 chain(s), 23 step(s)" "--check"
printf 'name: t\nchains:\n  - {name: A, id: 1}\nsteps:\n  - build: {chain: B}\n' > unknown-chain.yaml
run sim --check good.yaml unknown-chain.yaml binary.yaml
[ "$rc" -eq 1 ] || fail "--check with bad files: exit $rc, want 1"
has_line "FAIL unknown-chain.yaml:5: build.chain: no chain named 'B'" "--check"
has_line "2 invalid" "--check"
printable_only || fail "--check: a control byte reached the output"
run sim --check good.yaml --timeline t.html
[ "$rc" -eq 2 ] || fail "--check --timeline: exit $rc, want 2"
[ -e t.html ] && fail "--check wrote a timeline"

[ "$status" -eq 0 ] && echo "sim cli: ok"
exit "$status"
