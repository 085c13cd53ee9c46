#!/usr/bin/env python3
"""A fake L1 node and fake L2 nodes over JSON-RPC HTTP for the `supersafe serve` test.

Serves /l1 (blocks 0..3, finalized 1) and /l2/<chainID> (blocks 0..2, no logs) on 127.0.0.1, any
free port; writes the port and the genesis hashes as JSON to the file named on the command line.
"""
import hashlib
import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def block_hash(name, n):
    return "0x" + hashlib.sha256(f"{name}/{n}".encode()).hexdigest()


def header(name, n, time):
    return {"hash": block_hash(name, n), "number": hex(n), "timestamp": hex(time),
            "parentHash": block_hash(name, n - 1) if n > 0 else "0x" + "00" * 32,
            "stateRoot": block_hash("state/" + name, n)}


NODES = {"/l1": ("l1", 3, lambda n: 12 * n)}
for chain in ("900", "901"):
    NODES["/l2/" + chain] = ("l2-" + chain, 2, lambda n: 1000 + 2 * n)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):
        req = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        name, head, time = NODES[self.path]
        method, params, result = req["method"], req["params"], None
        if method == "eth_getBlockByNumber":
            tag = params[0]
            n = {"latest": head, "finalized": 1}.get(tag) if not tag.startswith("0x") else int(tag, 16)
            if n is not None and n <= head:
                result = header(name, n, time(n))
        elif method in ("eth_getBlockByHash", "eth_getBlockReceipts", "eth_getProof"):
            want = params[2]["blockHash"] if method == "eth_getProof" else params[0]
            for n in range(head + 1):
                if block_hash(name, n) == want:
                    result = {"eth_getBlockByHash": header(name, n, time(n)), "eth_getBlockReceipts": [],
                              "eth_getProof": {"storageHash": block_hash("mp/" + name, n)}}[method]
        body = json.dumps({"jsonrpc": "2.0", "id": req["id"], "result": result}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(sys.argv[1] + ".tmp", "w") as f:
    json.dump({"port": server.server_address[1], "l1": block_hash("l1", 0),
               "900": block_hash("l2-900", 0), "901": block_hash("l2-901", 0)}, f)
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
server.serve_forever()
