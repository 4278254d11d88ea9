#!/usr/bin/env bash
# The load benchmark (bench.js) against the PostgreSQL cluster of deploy/run-cluster.sh: once with one
# node behind nginx and once with two (BENCH_NODES, default "1 2"), each on a fresh throw-away
# database; with one node also the database work per request (dbwork.js). Writes
# bench/results/cluster-<N>-nodes.md and bench/results/dbwork.md. Needs what run-cluster.sh needs
# (dotnet, openssl, nginx, Debian's postgresql, run as root or postgres) plus node and npm.
# Other settings are bench.js's (BENCH_DURATION, BENCH_WARMUP, BENCH_CONNECTIONS, BENCH_SCENARIOS).
set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$BENCH_DIR/.." && pwd)"
RESULTS_DIR="$BENCH_DIR/results"
mkdir -p "$RESULTS_DIR"
log() { printf '[cluster-bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

if [[ ! -f "$BENCH_DIR/node_modules/.package-lock.json" ]]; then
  (cd "$BENCH_DIR" && npm ci --no-audit --no-fund --loglevel=error) >&2
fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/idp-cluster-bench.XXXXXX")"
chmod 711 "$WORK"
CLUSTER_PID=""
stop_cluster() {
  if [[ -n "$CLUSTER_PID" ]]; then
    kill -TERM "$CLUSTER_PID" 2>/dev/null || true
    wait "$CLUSTER_PID" 2>/dev/null || true
    CLUSTER_PID=""
  fi
}
trap 'stop_cluster; rm -rf "$WORK"' EXIT

for nodes in ${BENCH_NODES:-1 2}; do
  work="$WORK/cluster-$nodes"
  port=$((18443 + nodes))
  node_port=$((15100 + nodes * 10))
  log "starting $nodes node(s) behind nginx on https://localhost:$port/"
  # The benchmark's clients are exempt from the per-client token limit (by configuration, as any
  # deployment would exempt a trusted high-volume client); every other limit stays on. Its refresh
  # chains retry a token whose rotation autocannon cut off, so the server allows a 30 s reuse leeway.
  IDP_NODES="$nodes" IDP_PORT="$port" IDP_NODE_PORT="$node_port" IDP_WORK="$work" \
  RateLimits__Token__ExemptClients__0=bench-worker RateLimits__Token__ExemptClients__1=bench-web \
  IdentityServer__RefreshTokenReuseLeeway=00:00:30 \
    "$REPO_DIR/deploy/run-cluster.sh" >"$WORK/cluster-$nodes.log" 2>&1 &
  CLUSTER_PID=$!
  for _ in $(seq 1 300); do
    grep -q '\] ready: ' "$WORK/cluster-$nodes.log" && break
    kill -0 "$CLUSTER_PID" 2>/dev/null || { cat "$WORK/cluster-$nodes.log" >&2; die "the cluster did not start"; }
    sleep 1
  done
  grep -q '\] ready: ' "$WORK/cluster-$nodes.log" || die "the cluster was not ready after 300 s"

  export NODE_EXTRA_CA_CERTS="$work/tls.crt" BENCH_URL="https://localhost:$port"
  # On the fresh database, before the load: afterwards every sign-in of the benchmark's one user would
  # end one of its sessions holding thousands of tokens (Sessions:MaxPerUser), which no real sign-in does.
  if [[ "$nodes" == "1" && "${BENCH_DBWORK:-1}" == "1" ]]; then
    pg_line="$(grep -o 'psql -h [^)]*' "$WORK/cluster-$nodes.log" | head -1)"
    [[ -n "$pg_line" ]] || die "no throw-away database to measure"
    DBWORK_PSQL="${pg_line#psql }" DBWORK_NODE_PIDS="$(pgrep -d ' ' -f "IdentityServer.dll --urls http://127.0.0.1:$node_port" || true)" \
      node "$BENCH_DIR/dbwork.js" >"$RESULTS_DIR/dbwork.md"
    log "written bench/results/dbwork.md"
  fi
  {
    echo "# Load benchmark: $nodes node(s) behind nginx (TLS, round-robin) on PostgreSQL"
    echo
    echo "- Date: $(date -u +%Y-%m-%dT%H:%M:%SZ); commit $(git -C "$REPO_DIR" rev-parse --short HEAD)"
    echo "- Machine: $(nproc) CPUs ($(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')); nginx, nodes, PostgreSQL $(psql --version | awk '{print $3}') and the load generator share them"
    echo "- Nodes: Release build, Production, log level Information (default), seed bench/seed.json"
    echo "- Load average (1 min) before the run: $(cut -d' ' -f1 /proc/loadavg) (anything else running on the machine distorts the figures)"
    echo
    node "$BENCH_DIR/bench.js"
  } >"$RESULTS_DIR/cluster-$nodes-nodes.md"
  log "written bench/results/cluster-$nodes-nodes.md"

  stop_cluster
done
