#!/usr/bin/env bash
# Throughput floor of stock OpenIddict: builds bench/floor in Release, starts it in one mode on
# plain-HTTP loopback (with a new SQLite file in WAL mode, except in Degraded mode), measures one
# scenario with autocannon and samples the server's CPU over the measured run. See bench/floor/README.md.
#
# Usage: bash bench/floor/run.sh MODE SCENARIO
#   MODE      Degraded | Sqlite | Stock
#   SCENARIO  cc (every mode) | refresh | introspect (Stock only)
#
# Settings (environment): BENCH_CONNECTIONS (default 64), BENCH_WARMUP (s, default 10),
# BENCH_DURATION (s, default 20), BENCH_TIMEOUT (s, default 10), BENCH_TOKEN_POOL (default 256),
# BENCH_PORT (default: a free port), BENCH_KEEP=1 keeps the work folder.
set -euo pipefail

FLOOR_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BENCH_DIR="$(cd "$FLOOR_DIR/.." && pwd)"
REPO_DIR="$(cd "$BENCH_DIR/.." && pwd)"

log() { printf '[floor %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }
usage() { die "usage: bash bench/floor/run.sh Degraded|Sqlite|Stock cc|refresh|introspect"; }

[[ $# -eq 2 ]] || usage
MODE="$1"
SCENARIO="$2"
case "$MODE" in Degraded|Sqlite|Stock) ;; *) usage ;; esac
case "$SCENARIO" in
  cc) ;;
  refresh|introspect) [[ "$MODE" == "Stock" ]] || die "SCENARIO $SCENARIO needs MODE Stock (only Stock has refresh tokens and introspection)" ;;
  *) usage ;;
esac

for tool in dotnet node npm curl openssl; do
  command -v "$tool" >/dev/null 2>&1 || die "'$tool' is required"
done
[[ -r /proc/self/stat ]] || die "/proc is required (the server's CPU time is read from /proc/PID/stat)"

# The database must live on a real disk: a tmpfs would make the figures meaningless for SQLite.
disk_backed() { case "$(stat -f -c %T "$1" 2>/dev/null || echo unknown)" in tmpfs|ramfs) return 1 ;; esac; }
work_parent="${TMPDIR:-/tmp}"
disk_backed "$work_parent" || work_parent=/var/tmp
disk_backed "$work_parent" || die "no disk-backed temporary folder: set TMPDIR to a folder on a disk"
WORK_DIR="$(mktemp -d "$work_parent/idp-floor.XXXXXX")"
SERVER_PID=""
SERVER_LOG="$WORK_DIR/server.log"

cleanup() {
  local status=$?
  if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    log "stopping the server (pid $SERVER_PID)"
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do
      kill -0 "$SERVER_PID" 2>/dev/null || break
      sleep 0.2
    done
    kill -0 "$SERVER_PID" 2>/dev/null && kill -KILL "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  if [[ "${BENCH_KEEP:-0}" == "1" ]]; then
    log "work folder kept: $WORK_DIR"
  else
    rm -rf "$WORK_DIR"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- load generator (the one bench/run.sh installs) ---------------------------------------------
if [[ ! -f "$BENCH_DIR/node_modules/.package-lock.json" || "$BENCH_DIR/package-lock.json" -nt "$BENCH_DIR/node_modules/.package-lock.json" ]]; then
  log "installing the load generator (npm ci in bench/)"
  (cd "$BENCH_DIR" && npm ci --no-audit --no-fund --loglevel=error) >&2
fi

# --- server build (Release; intermediate files stay in the work folder) ----------------------------
log "building bench/floor (Release)"
dotnet publish "$FLOOR_DIR/Floor.csproj" -c Release -o "$WORK_DIR/publish" \
  --artifacts-path "$WORK_DIR/artifacts" -nologo -v quiet >"$WORK_DIR/build.log" 2>&1 \
  || { tail -n 40 "$WORK_DIR/build.log" >&2; die "the Release build failed"; }

# --- start the server ----------------------------------------------------------------------------
# The clients' secrets are made up for this run; the server gets them through its environment.
WORKER_SECRET="$(openssl rand -hex 24)"
API_SECRET="$(openssl rand -hex 24)"
PORT="${BENCH_PORT:-$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")}"
BASE_URL="http://127.0.0.1:$PORT"
DB_FILE="$WORK_DIR/floor.db"
database_args=()
if [[ "$MODE" != "Degraded" ]]; then
  database_args=(--Floor:Database="$DB_FILE")
fi

log "starting the server in $MODE mode on $BASE_URL"
(
  cd "$WORK_DIR/publish"
  export ASPNETCORE_ENVIRONMENT=Production
  export Floor__WorkerSecret="$WORKER_SECRET" Floor__ApiSecret="$API_SECRET"
  unset DOTNET_ENVIRONMENT ASPNETCORE_URLS
  exec dotnet Floor.dll --urls "$BASE_URL" --Floor:Mode="$MODE" "${database_args[@]}"
) >"$SERVER_LOG" 2>&1 &
SERVER_PID=$!

ready=0
for _ in $(seq 1 120); do
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    tail -n 60 "$SERVER_LOG" >&2
    die "the server exited during start-up"
  fi
  if curl -fsS -o /dev/null --max-time 2 "$BASE_URL/.well-known/openid-configuration" 2>/dev/null; then
    ready=1
    break
  fi
  sleep 0.5
done
[[ "$ready" == "1" ]] || { tail -n 60 "$SERVER_LOG" >&2; die "the server did not answer /.well-known/openid-configuration within 60 s"; }
log "server ready (pid $SERVER_PID)"

# --- measure ----------------------------------------------------------------------------------------
STARTED="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
load_before="$(cut -d' ' -f1 /proc/loadavg)"
bench_status=0
BENCH_URL="$BASE_URL" BENCH_MODE="$MODE" BENCH_SCENARIO="$SCENARIO" BENCH_SERVER_PID="$SERVER_PID" \
BENCH_WORKER_SECRET="$WORKER_SECRET" BENCH_API_SECRET="$API_SECRET" \
  node "$FLOOR_DIR/floor.js" >"$WORK_DIR/report.md" || bench_status=$?

# --- report -----------------------------------------------------------------------------------------
server_alive="yes"
kill -0 "$SERVER_PID" 2>/dev/null || server_alive="no (it exited during the run)"
database="none (Degraded mode)"
if [[ "$MODE" != "Degraded" ]]; then
  database="SQLite file on $(stat -f -c %T "$WORK_DIR" 2>/dev/null || echo unknown)"
  if [[ -f "$DB_FILE-wal" ]]; then
    database="$database, journal WAL ($(du -h "$DB_FILE" | cut -f1) database, $(du -h "$DB_FILE-wal" | cut -f1) -wal file at the end)"
  else
    database="$database, no -wal file seen"
  fi
fi
cpu_model="$(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//' || true)"
aspnet_runtime="$(dotnet --list-runtimes | awk '/^Microsoft.AspNetCore.App/ {print $2}' | sort -V | tail -n 1)"
commit="$(git -C "$REPO_DIR" rev-parse --short HEAD 2>/dev/null || echo unknown)"
[[ -n "$(git -C "$REPO_DIR" status --porcelain -- bench/floor 2>/dev/null)" ]] && commit="$commit (with uncommitted changes under bench/floor/)"
autocannon_version="$(node -p "require('$BENCH_DIR/node_modules/autocannon/package.json').version")"
openiddict_version="$(sed -n 's/.*Include="OpenIddict.AspNetCore" Version="\([^"]*\)".*/\1/p' "$REPO_DIR/Directory.Packages.props")"
# The server's own start-up lines (Information) and its warnings and errors, grouped by first line.
server_lines="$(awk '/^info: Floor/ { getline; sub(/^ +/, ""); print "- " $0 }' "$SERVER_LOG")"
problems="$(awk '/^(warn|fail|crit): / { head = $0; getline; sub(/^ +/, ""); print head " " $0 }' "$SERVER_LOG" \
  | sort | uniq -c | sort -rn | head -n 10 | sed 's/^ *\([0-9]*\) /- \1 × /')"

cat "$WORK_DIR/report.md"
echo
echo "### Conditions"
echo
echo "- Date: $STARTED; commit $commit; OpenIddict $openiddict_version (stock)"
echo "- Machine: $(nproc) CPUs ($cpu_model), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo) memory; load generator on the same machine"
echo "- .NET SDK $(dotnet --version), ASP.NET Core runtime $aspnet_runtime; Node.js $(node --version), autocannon $autocannon_version"
echo "- Server: bench/floor in Release, mode $MODE, ASPNETCORE_ENVIRONMENT=Production, plain HTTP on 127.0.0.1, log level Warning"
echo "- Database: $database"
echo "- Load average (1 min) before the run: $load_before; after: $(cut -d' ' -f1 /proc/loadavg)"
echo "- Server still running at the end: $server_alive"
echo
echo "### Server log"
echo
echo "${server_lines:-- (no start-up lines)}"
if [[ -n "$problems" ]]; then
  echo
  echo "Warnings and errors (count × level: category, first line):"
  echo
  echo "$problems"
fi

[[ "$server_alive" == "yes" ]] || exit 1
exit "$bench_status"
