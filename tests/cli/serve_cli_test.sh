#!/usr/bin/env bash
# `supersafe serve` as a process against fake upstream nodes (fake_upstream.py): it follows the L2
# heads, answers JSON-RPC, /healthz and /metrics, forwards L1 finality, exits 0 on SIGTERM; startup
# errors (missing file, bad URL, port in use) exit 1 with a message naming the cause.
set -euo pipefail
supersafe=$1
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

python3 "$here/fake_upstream.py" "$work/upstream.json" &
pids+=($!)
for _ in $(seq 100); do [ -f "$work/upstream.json" ] && break; sleep 0.05; done
read -r port l1 g900 g901 < <(python3 -c '
import json, sys; u = json.load(open(sys.argv[1])); print(u["port"], u["l1"], u["900"], u["901"])' "$work/upstream.json")
up="http://127.0.0.1:$port"
echo '{"dependencies": {"900": {}, "901": {}}}' > "$work/deps.json"
cat > "$work/rollup.json" <<JSON
{"900": {"genesis": {"l1": {"hash": "$l1", "number": 0}, "l2": {"hash": "$g900", "number": 0}, "l2_time": 1000}, "block_time": 2},
 "901": {"genesis": {"l1": {"hash": "$l1", "number": 0}, "l2": {"hash": "$g901", "number": 0}, "l2_time": 1000}, "block_time": 2}}
JSON
printf '%064x\n' 7 > "$work/jwt.hex"
base=(--l1-rpc "$up/l1" --l2-rpc "900=$up/l2/900" --l2-rpc "901=$up/l2/901" --rollup-config-set "$work/rollup.json"
      --poll-interval-ms 50)
args=(--datadir "$work/data" "${base[@]}" --dependency-set "$work/deps.json" --admin-jwt-secret "$work/jwt.hex")

"$supersafe" serve "${args[@]}" --rpc.port 0 2> "$work/serve.log" &
serve=$!
pids+=($serve)
rpc_port=
for _ in $(seq 200); do
  rpc_port=$(sed -n 's/.*serving JSON-RPC on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$work/serve.log" 2>/dev/null || true)
  [ -n "$rpc_port" ] && break
  sleep 0.05
done
[ -n "$rpc_port" ] || { echo "serve did not start:"; cat "$work/serve.log"; exit 1; }

python3 - "$rpc_port" <<'PY'
import json, sys, time, urllib.request
base = f"http://127.0.0.1:{sys.argv[1]}"
def call(method, params):
    req = urllib.request.Request(base + "/", json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode(),
                                 {"Content-Type": "application/json"})
    return json.load(urllib.request.urlopen(req, timeout=5))
deadline = time.time() + 10
while time.time() < deadline:
    if call("supervisor_localUnsafe", ["901"]).get("result", {}).get("number") == 2:
        break
    time.sleep(0.05)
else:
    sys.exit("the daemon did not index the L2 heads: %s" % call("supervisor_localUnsafe", ["901"]))
assert call("supervisor_dependencySetV1", [])["result"]["dependencies"] == {"900": {}, "901": {}}
# L1 finalized block 1, but only the genesis group (L1 block 0) is written: finality goes that far.
deadline = time.time() + 10
while call("supervisor_finalizedL1", []).get("result", {}).get("number") != 0 and time.time() < deadline:
    time.sleep(0.05)
assert call("supervisor_finalizedL1", [])["result"]["number"] == 0
assert call("nope", [])["error"]["code"] == -32601
health = urllib.request.urlopen(base + "/healthz", timeout=5)
assert health.headers["Content-Type"] == "application/json", health.headers
assert set(json.load(health)) == {"version"}
metrics = urllib.request.urlopen(base + "/metrics", timeout=5).read().decode()
assert 'supersafe_head{chain="900",level="unsafe"} 2' in metrics, metrics
PY

# A second daemon on the same port does not start.
set +e
"$supersafe" serve --datadir "$work/data2" "${base[@]}" --dependency-set "$work/deps.json" --rpc.port "$rpc_port" \
  2> "$work/second.log"
rc=$?
set -e
[ $rc -eq 1 ] || { echo "second daemon on a used port exited $rc"; exit 1; }
grep -q "cannot listen" "$work/second.log" || { echo "no port-in-use message:"; cat "$work/second.log"; exit 1; }

kill -TERM "$serve"
set +e
wait "$serve"
rc=$?
set -e
[ $rc -eq 0 ] || { echo "serve exited $rc on SIGTERM:"; cat "$work/serve.log"; exit 1; }
grep -q "received SIGTERM" "$work/serve.log" && grep -q "stopped" "$work/serve.log" || { cat "$work/serve.log"; exit 1; }
"$supersafe" db verify "$work/data" | grep " 0 findings" >/dev/null || { echo "the data directory does not verify"; exit 1; }

# The same daemon configured as an op-supervisor deployment is: OP_SUPERVISOR_* variables only,
# op-node rollup.json files by glob, JSON logs, a separate metrics server, the admin API enabled.
for id in 900 901; do
  g=$g900; [ $id = 901 ] && g=$g901
  cat > "$work/rollup-$id.json" <<JSON
{"genesis": {"l1": {"hash": "$l1", "number": 0}, "l2": {"hash": "$g", "number": 0}, "l2_time": 1000,
             "system_config": {"batcherAddr": "0x$(printf '1%.0s' $(seq 40))", "gasLimit": 30000000}},
 "block_time": 2, "max_sequencer_drift": 600, "seq_window_size": 3600, "channel_timeout": 300,
 "l1_chain_id": 900, "l2_chain_id": $id, "regolith_time": 0, "interop_time": 1000}
JSON
done
OP_SUPERVISOR_DATADIR="$work/data" OP_SUPERVISOR_L1_RPC="$up/l1" OP_SUPERVISOR_L2_RPC="900=$up/l2/900,901=$up/l2/901" \
OP_SUPERVISOR_DEPENDENCY_SET="$work/deps.json" OP_SUPERVISOR_ROLLUP_CONFIG_PATHS="$work/rollup-*.json" \
OP_SUPERVISOR_RPC_PORT=0 OP_SUPERVISOR_RPC_ENABLE_ADMIN=true OP_SUPERVISOR_ADMIN_JWT_SECRET="$work/jwt.hex" \
OP_SUPERVISOR_METRICS_ENABLED=true OP_SUPERVISOR_METRICS_PORT=0 OP_SUPERVISOR_LOG_FORMAT=json \
OP_SUPERVISOR_LOG_LEVEL=info OP_SUPERVISOR_POLL_INTERVAL_MS=50 "$supersafe" serve 2> "$work/env.log" &
serve=$!
pids+=($serve)
rpc_port= metrics_port=
for _ in $(seq 200); do
  rpc_port=$(sed -n 's/.*serving JSON-RPC on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$work/env.log" 2>/dev/null || true)
  metrics_port=$(sed -n 's/.*serving metrics on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$work/env.log" 2>/dev/null || true)
  [ -n "$rpc_port" ] && [ -n "$metrics_port" ] && break
  sleep 0.05
done
[ -n "$rpc_port" ] && [ -n "$metrics_port" ] || { echo "serve from the environment did not start:"; cat "$work/env.log"; exit 1; }
python3 - "$rpc_port" "$metrics_port" "$work/env.log" <<'PY'
import json, sys, urllib.request
rpc, metrics, log = sys.argv[1:]
def call(method, params):
    req = urllib.request.Request(f"http://127.0.0.1:{rpc}/", json.dumps({"jsonrpc": "2.0", "id": 1, "method": method,
                                 "params": params}).encode(), {"Content-Type": "application/json"})
    return json.load(urllib.request.urlopen(req, timeout=5))
assert call("supervisor_dependencySetV1", [])["result"]["dependencies"] == {"900": {}, "901": {}}
assert call("admin_getFailsafeEnabled", [])["result"] is False
assert call("admin_setFailsafeEnabled", [True])["error"]["code"] == -32001
text = urllib.request.urlopen(f"http://127.0.0.1:{metrics}/metrics", timeout=5).read().decode()
assert "op_supervisor_default_up 1\n" in text, text
assert 'op_supervisor_default_rpc_server_requests_total{method="admin_getFailsafeEnabled"} 1' in text, text
for line in open(log):
    entry = json.loads(line)
    assert set(entry) == {"t", "lvl", "msg"} and entry["lvl"] == "info", line
PY
kill -TERM "$serve"
wait "$serve" || { echo "serve from the environment exited $?"; cat "$work/env.log"; exit 1; }

expect_start_error() {  # message, then serve arguments
  local want=$1
  shift
  set +e
  "$supersafe" serve "$@" 2> "$work/err.log"
  local rc=$?
  set -e
  [ $rc -eq 1 ] || { echo "serve $* exited $rc, want 1"; exit 1; }
  grep -q -- "$want" "$work/err.log" || { echo "want '$want' in:"; cat "$work/err.log"; exit 1; }
}
more=(--datadir "$work/data3" --rollup-config-set "$work/rollup.json" --l2-rpc "900=$up/l2/900")
expect_start_error "--dependency-set $work/none.json: cannot read" "${more[@]}" --l1-rpc "$up/l1" --dependency-set "$work/none.json"
expect_start_error "--l1-rpc URL 'localhost:1'" "${more[@]}" --l1-rpc localhost:1 --dependency-set "$work/deps.json"
expect_start_error "--l2-rpc 'x': want CHAINID=URL" "${more[@]}" --l1-rpc "$up/l1" --l2-rpc x --dependency-set "$work/deps.json"
expect_start_error "admin JWT secret" "${more[@]}" --l1-rpc "$up/l1" --dependency-set "$work/deps.json" \
  --admin-jwt-secret "$work/deps.json"
expect_start_error "--rpc.enable-admin: the admin methods need --admin-jwt-secret" "${more[@]}" --l1-rpc "$up/l1" \
  --l2-rpc "901=$up/l2/901" --dependency-set "$work/deps.json" --rpc.enable-admin
expect_start_error "--log.format 'xml'" "${more[@]}" --l1-rpc "$up/l1" --dependency-set "$work/deps.json" --log.format xml
expect_start_error "give only one of them" "${more[@]}" --l1-rpc "$up/l1" --l2-rpc "901=$up/l2/901" \
  --dependency-set "$work/deps.json" --rollup-config-paths "$work/rollup-*.json"
echo "serve cli: ok"
