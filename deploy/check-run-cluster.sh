#!/usr/bin/env bash
# Runs docs/deployment.md's "Trying it on one machine" as written: deploy/run-cluster.sh in the
# background, then the page's three curl requests, checked; then stops the cluster.
# Used by .ci/run; needs what run-cluster.sh needs (nginx, PostgreSQL, root or postgres).
set -uo pipefail
REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_DIR"

block=$(awk '/^```bash$/{inside=1; text=""; next} /^```$/{if (inside && text ~ /deploy\/run-cluster.sh/) {print text; exit} inside=0; next} inside{text=text $0 "\n"}' docs/deployment.md)
[ -n "$block" ] || { echo "docs/deployment.md has no run-cluster.sh block"; exit 1; }
# The block's commands, joined where a line ends with a backslash; comments stay (bash ignores them).
mapfile -t commands < <(printf '%s' "$block" | sed -e ':a' -e '/\\$/N; s/\\\n//; ta')
start=${commands[0]%%#*}
[ "$(echo $start)" = "deploy/run-cluster.sh" ] || { echo "unexpected first command: ${commands[0]}"; exit 1; }

log=$(mktemp /tmp/run-cluster.XXXXXX.log)
setsid deploy/run-cluster.sh >"$log" 2>&1 &
cluster=$!
# A background job of a script starts with SIGINT ignored, so the script is stopped with TERM, which
# run-cluster.sh traps to clean up as Ctrl-C would; KILL if it has not finished in 30 s.
stop() {
  kill -TERM -- "-$cluster" 2>/dev/null
  for _ in $(seq 1 30); do kill -0 "$cluster" 2>/dev/null || break; sleep 1; done
  kill -KILL -- "-$cluster" 2>/dev/null
  wait "$cluster" 2>/dev/null
}
trap stop EXIT

ready=0
for _ in $(seq 1 180); do
  if curl -sf --cacert deploy/.run/tls.crt https://localhost:8443/health/ready >/dev/null 2>&1; then ready=1; break; fi
  if ! kill -0 "$cluster" 2>/dev/null; then break; fi
  sleep 2
done
[ "$ready" -eq 1 ] || { echo "the cluster did not become ready"; tail -40 "$log"; exit 1; }

discovery=$(eval "${commands[1]}" 2>/dev/null) || { echo "discovery request failed"; exit 1; }
grep -q '"issuer": *"https://localhost:8443/"' <<<"$discovery" || { echo "discovery: $discovery"; exit 1; }
upstreams=$( { eval "${commands[2]}"; eval "${commands[2]}"; } 2>/dev/null | tr -d '\r' | sort -u | wc -l)
[ "$upstreams" -eq 2 ] || { echo "two /health/ready requests reached $upstreams node(s), not both"; exit 1; }
token=$(eval "${commands[3]}" 2>/dev/null) || { echo "token request failed"; exit 1; }
grep -q '"access_token"' <<<"$token" || { echo "token: $token"; exit 1; }
echo "docs/deployment.md's cluster: run-cluster.sh started, discovery, both nodes and a token answered as written"
