#!/usr/bin/env bash
# Load benchmark: builds the server in Release, runs it in Production on a SQLite file (WAL) behind a
# simulated TLS-terminating proxy on loopback, measures three scenarios with autocannon and writes
# bench/results/latest.md. See bench/README.md.
#
# Settings (environment): BENCH_DURATION (s, default 15), BENCH_WARMUP (s, default 10),
# BENCH_CONNECTIONS (default 16,64), BENCH_SCENARIOS, BENCH_TIMEOUT (s, default 10),
# BENCH_TOKEN_POOL (default 256), BENCH_PORT (default: a free port), BENCH_KEEP=1 keeps the work folder,
# BENCH_SERVER_ARGS: extra server arguments (for diagnosis, e.g. more logging; not for reported figures).
set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$BENCH_DIR/.." && pwd)"
RESULTS_DIR="$BENCH_DIR/results"

log() { printf '[run %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

for tool in dotnet node npm openssl curl; do
  command -v "$tool" >/dev/null 2>&1 || die "'$tool' is required"
done

mkdir -p "$RESULTS_DIR"

# The database must live on a real disk: a tmpfs would make the figures meaningless for SQLite.
work_parent="${TMPDIR:-/tmp}"
case "$(stat -f -c %T "$work_parent" 2>/dev/null || echo unknown)" in
  tmpfs|ramfs) work_parent="$RESULTS_DIR" ;;
esac
WORK_DIR="$(mktemp -d "$work_parent/idp-bench.XXXXXX")"
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
  [[ -f "$SERVER_LOG" ]] && cp "$SERVER_LOG" "$RESULTS_DIR/server.log" 2>/dev/null || true
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

# --- load generator -------------------------------------------------------------------------
if [[ ! -f "$BENCH_DIR/node_modules/.package-lock.json" || "$BENCH_DIR/package-lock.json" -nt "$BENCH_DIR/node_modules/.package-lock.json" ]]; then
  log "installing the load generator (npm ci)"
  (cd "$BENCH_DIR" && npm ci --no-audit --no-fund --loglevel=error) >&2
fi

# --- server build (Release; intermediate files stay in the work folder) ----------------------
log "building the server (Release)"
dotnet publish "$REPO_DIR/src/IdentityServer" -c Release -o "$WORK_DIR/publish" \
  --artifacts-path "$WORK_DIR/artifacts" -nologo -v quiet >"$WORK_DIR/build.log" 2>&1 \
  || { tail -n 40 "$WORK_DIR/build.log" >&2; die "the Release build failed"; }

# --- certificates: RSA-2048, one for signing, one for encryption -----------------------------
CERT_PASSWORD="$(openssl rand -hex 16)"
make_cert() { # name keyUsage
  openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 30 -subj "/CN=IdP bench $1" \
    -addext "keyUsage=critical,$2" -keyout "$WORK_DIR/$1.key" -out "$WORK_DIR/$1.crt" 2>/dev/null
  openssl pkcs12 -export -inkey "$WORK_DIR/$1.key" -in "$WORK_DIR/$1.crt" \
    -out "$WORK_DIR/$1.pfx" -passout "pass:$CERT_PASSWORD"
}
make_cert signing digitalSignature
make_cert encryption keyEncipherment

# --- start the server --------------------------------------------------------------------------
PORT="${BENCH_PORT:-$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")}"
BASE_URL="http://127.0.0.1:$PORT"
DB_FILE="$WORK_DIR/idp.db"

log "starting the server on $BASE_URL (Production, database $DB_FILE)"
(
  cd "$WORK_DIR/publish"
  export ASPNETCORE_ENVIRONMENT=Production
  export ASPNETCORE_FORWARDEDHEADERS_ENABLED=true
  unset DOTNET_ENVIRONMENT ASPNETCORE_URLS
  exec dotnet IdentityServer.dll \
    --urls "$BASE_URL" \
    --IdentityServer:Issuer="https://127.0.0.1:$PORT/" \
    --ConnectionStrings:Default="Data Source=$DB_FILE" \
    --DataProtection:KeysPath="$WORK_DIR/keys" \
    --Seed:Path="$BENCH_DIR/seed.json" \
    --Certificates:Signing:0:Path="$WORK_DIR/signing.pfx" \
    --Certificates:Signing:0:Password="$CERT_PASSWORD" \
    --Certificates:Encryption:0:Path="$WORK_DIR/encryption.pfx" \
    --Certificates:Encryption:0:Password="$CERT_PASSWORD" \
    --Logging:LogLevel:Default=Warning \
    --IdentityServer:RefreshTokenReuseLeeway=00:00:30 \
    --RateLimits:Token:ExemptClients:0=bench-worker \
    --RateLimits:Token:ExemptClients:1=bench-web \
    ${BENCH_SERVER_ARGS:-}
) >"$SERVER_LOG" 2>&1 &
SERVER_PID=$!

ready=0
for _ in $(seq 1 120); do
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    tail -n 60 "$SERVER_LOG" >&2
    die "the server exited during start-up"
  fi
  if curl -fsS -o /dev/null --max-time 2 -H 'X-Forwarded-Proto: https' "$BASE_URL/.well-known/openid-configuration" 2>/dev/null; then
    ready=1
    break
  fi
  sleep 0.5
done
[[ "$ready" == "1" ]] || { tail -n 60 "$SERVER_LOG" >&2; die "the server did not answer /.well-known/openid-configuration within 60 s"; }
log "server ready"

# --- measure ----------------------------------------------------------------------------------
STARTED="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
load_before="$(cut -d' ' -f1 /proc/loadavg)"
bench_status=0
BENCH_URL="$BASE_URL" BENCH_JSON="$RESULTS_DIR/latest.json" \
  node "$BENCH_DIR/bench.js" >"$WORK_DIR/report.md" || bench_status=$?

# --- report -----------------------------------------------------------------------------------
server_alive="yes"
kill -0 "$SERVER_PID" 2>/dev/null || server_alive="no (it exited during the run)"
journal="no -wal file seen"
[[ -f "$DB_FILE-wal" ]] && journal="WAL ($(du -h "$DB_FILE" | cut -f1) database, $(du -h "$DB_FILE-wal" | cut -f1) -wal file at the end)"
fs_type="$(stat -f -c %T "$WORK_DIR" 2>/dev/null || echo unknown)"
cpu_model="$(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//' || true)"
aspnet_runtime="$(dotnet --list-runtimes | awk '/^Microsoft.AspNetCore.App/ {print $2}' | sort -V | tail -n 1)"
commit="$(git -C "$REPO_DIR" rev-parse --short HEAD 2>/dev/null || echo unknown)"
[[ -n "$(git -C "$REPO_DIR" status --porcelain -- src 2>/dev/null)" ]] && commit="$commit (with uncommitted changes under src/)"
autocannon_version="$(node -p "require('$BENCH_DIR/node_modules/autocannon/package.json').version")"
# Console log entries start with "level: category" (after a timestamp when BENCH_SERVER_ARGS adds one).
# Warnings and errors grouped by level, category, first message line and exception type.
log_summary() {
  local h='[0-9a-fA-F]' guid
  guid="$h$h$h$h$h$h$h$h-$h$h$h$h-$h$h$h$h-$h$h$h$h-$h$h$h$h$h$h$h$h$h$h$h$h"
  awk -v guid="$guid" '
    function flush() {
      if (level != "") {
        gsub(/\|/, "\\|", message); gsub(/\|/, "\\|", exception)
        printf "%s\t%s\t%s\t%s\n", level, category, message, exception
      }
      level = ""
    }
    match($0, /^[0-9:._ -]*(fail|crit|warn|info|dbug|trce): /) {
      flush()
      head = substr($0, RSTART, RLENGTH); rest = substr($0, RSTART + RLENGTH)
      sub(/^[0-9:._ -]*/, "", head); sub(/: $/, "", head)
      if (head == "fail" || head == "crit" || head == "warn") { level = head; category = rest; message = ""; exception = ""; n = 0 }
      next
    }
    level != "" {
      n++
      line = $0; sub(/^ +/, "", line)
      if (n == 1) {
        gsub(guid, "<id>", line); gsub(/\x27[^\x27]*\x27/, "<value>", line); message = line
      } else if (exception == "" && line ~ /^[A-Za-z0-9_.]+(Exception|Error)[A-Za-z0-9_.`]*:/) {
        exception = line
      }
    }
    END { flush() }' "$SERVER_LOG" | sort | uniq -c | sort -rn | head -n 15 \
    | awk -F '\t' '{ match($1, /^ *[0-9]+ /); count = substr($1, RSTART, RLENGTH); gsub(/ /, "", count); level = substr($1, RSTART + RLENGTH)
                     printf "| %s | %s | %s | %s | %s |\n", count, level, $2, $3, $4 }'
}
server_errors="$(grep -cE '^[0-9:._ -]*(fail|crit): ' "$SERVER_LOG" || true)"
server_warnings="$(grep -cE '^[0-9:._ -]*warn: ' "$SERVER_LOG" || true)"

{
  echo "# Load benchmark"
  echo
  echo "- Date: $STARTED; commit $commit"
  echo "- Machine: $(nproc) CPUs ($cpu_model), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo) memory; load generator on the same machine"
  echo "- .NET SDK $(dotnet --version), ASP.NET Core runtime $aspnet_runtime; Node.js $(node --version), autocannon $autocannon_version"
  echo "- Server: Release build, ASPNETCORE_ENVIRONMENT=Production, plain HTTP on 127.0.0.1 with X-Forwarded-Proto: https (simulated TLS-terminating proxy), log level Warning"
  [[ -n "${BENCH_SERVER_ARGS:-}" ]] && echo "- Extra server arguments (diagnostic run, figures not comparable): ${BENCH_SERVER_ARGS}"
  echo "- Database: SQLite file on $fs_type, journal $journal"
  echo
  cat "$WORK_DIR/report.md"
  echo
  echo "### Server"
  echo
  echo "- Still running at the end: $server_alive"
  echo "- Load average (1 min) before the measurements: $load_before; after: $(cut -d' ' -f1 /proc/loadavg)"
  echo "- Log: $server_errors entries at error level (fail/crit), $server_warnings warnings (full log: bench/results/server.log)"
  if [[ "$server_errors" != "0" || "$server_warnings" != "0" ]]; then
    echo
    echo "| count | level | category | message | exception |"
    echo "|---:|---|---|---|---|"
    log_summary
    echo
    echo "Expected at the end of every warm-up and measurement, when autocannon closes its connections with requests"
    echo "still queued or running in the server: \`TaskCanceledException\` while redeeming a token (a running refresh"
    echo "request is cancelled) and \`BadHttpRequestException: Unexpected end of request content\` (the body of a queued"
    echo "request is gone). Nobody receives those responses, so they are not counted in the table."
  fi
} >"$RESULTS_DIR/latest.md"

cat "$RESULTS_DIR/latest.md"
log "written to bench/results/latest.md"
[[ "$server_alive" == "yes" ]] || exit 1
exit "$bench_status"
