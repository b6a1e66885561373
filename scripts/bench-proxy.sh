#!/usr/bin/env bash
# The named network's cost on a model round trip: 100 sequential POSTs of a
# small JSON body to a scripted server on the host's 127.0.0.1, from a boxed
# program through planexec's proxy, and from the same program --unconfined
# (direct). Usage: scripts/bench-proxy.sh [path/to/planexec]
set -euo pipefail
PLANEXEC=${1:-target/release/planexec}
work=$(mktemp -d)
trap 'kill $server 2>/dev/null; rm -rf "$work"' EXIT
cat >"$work/server.py" <<'PY'
import http.server, json, sys
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = json.dumps({"id": "msg_1", "content": [{"type": "text", "text": "ok"}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a): pass
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
PY
python3 "$work/server.py" >"$work/port" &
server=$!
while [ ! -s "$work/port" ]; do sleep 0.05; done
port=$(cat "$work/port")
cat >"$work/client.py" <<'PY'
import json, sys, time, urllib.request
port, n = int(sys.argv[1]), int(sys.argv[2])
body = json.dumps({"model": "m", "messages": [{"role": "user", "content": "x" * 2000}]}).encode()
t = []
for _ in range(n):
    s = time.perf_counter()
    r = urllib.request.Request("http://127.0.0.1:%d/v1/messages" % port, data=body, headers={"Content-Type": "application/json"})
    urllib.request.urlopen(r, timeout=30).read()
    t.append(time.perf_counter() - s)
t.sort()
print("BENCH n=%d total=%.1fms mean=%.2fms median=%.2fms p95=%.2fms" % (n, sum(t) * 1e3, sum(t) / n * 1e3, t[n // 2] * 1e3, t[int(n * .95)] * 1e3))
sys.exit(1)  # a failing gate shows its output
PY
mkdir -p "$work/ws" && cd "$work/ws" && git init -q
printf '[policy.plugins.command]\nnetwork = { allow = ["127.0.0.1:%s"] }\n' "$port" >planexec.toml
cp "$work/client.py" .
for mode in proxy direct; do
  extra=(); [ $mode = direct ] && extra=(--unconfined)
  echo "== $mode"
  PLANEXEC_TRUST=1 "$PLANEXEC" gate run --no-cache command "${extra[@]}" --grant python3 -- python3 client.py "$port" 100 2>&1 | grep -o 'BENCH.*' | head -1 || true
done
