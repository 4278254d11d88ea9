#!/usr/bin/env bash
# Load benchmark: builds the server in Release, runs it in Production on a SQLite file (WAL) behind a
# simulated TLS-terminating proxy on loopback, measures three scenarios with autocannon; then, in the
# same run and one at a time, the same scenarios on variants of it and on the reference peer
# (node-oidc-provider, bench/peer/). Writes bench/results/latest.md with every run, server CPU per
# request and the targets (ours / peer). See bench/README.md.
#
# Settings (environment): BENCH_DURATION (s, default 15), BENCH_WARMUP (s, default 30; longer while the JIT is busy, up to BENCH_WARMUP_MAX, default 90),
# BENCH_CONNECTIONS (default 16,64), BENCH_SCENARIOS, BENCH_TIMEOUT (s, default 10),
# BENCH_TOKEN_POOL (default 256), BENCH_KEEP=1 keeps the work folder,
# BENCH_VARIANTS (default ours,ours-es256,peer-jwt,peer-opaque; ours-postgres is added when
# BENCH_POSTGRES is set), BENCH_POSTGRES: a connection string to a PostgreSQL server whose user may
# create databases (a new database is made for the run),
# BENCH_SERVER_ARGS: extra arguments for our server (for diagnosis, e.g. more logging; not for reported figures).
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
SERVER_LOG=""
PG_DATABASE=""

stop_server() {
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
  SERVER_PID=""
}

cleanup() {
  local status=$?
  stop_server
  for variant_log in "$WORK_DIR"/*.log; do
    [[ -f "$variant_log" && "$variant_log" != */build.log ]] && cp "$variant_log" "$RESULTS_DIR/server-$(basename "$variant_log")" 2>/dev/null || true
  done
  [[ -n "$PG_DATABASE" ]] && pg_admin "DROP DATABASE IF EXISTS \"$PG_DATABASE\" WITH (FORCE)" >/dev/null 2>&1 || true
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

# --- server variants measured in this run ----------------------------------------------------
# ours: our server as deployed (SQLite, RS256 access tokens); ours-es256: the same with ES256 access
# tokens (client_credentials only: the signature is what changes); ours-postgres: on PostgreSQL;
# peer-jwt / peer-opaque: the reference peer with JWT (RS256) or opaque access tokens.
ALL_SCENARIOS="${BENCH_SCENARIOS:-client_credentials,refresh_token,introspection}"
default_variants="ours,ours-es256,peer-jwt,peer-opaque"
[[ -n "${BENCH_POSTGRES:-}" ]] && default_variants="$default_variants,ours-postgres"
IFS=',' read -r -a VARIANTS <<<"${BENCH_VARIANTS:-$default_variants}"
for variant in "${VARIANTS[@]}"; do
  case "$variant" in
    ours|ours-es256|peer-jwt|peer-opaque) ;;
    ours-postgres) [[ -n "${BENCH_POSTGRES:-}" ]] || die "the ours-postgres variant needs BENCH_POSTGRES" ;;
    *) die "BENCH_VARIANTS: unknown variant '$variant' (known: ours, ours-es256, ours-postgres, peer-jwt, peer-opaque)" ;;
  esac
done

# The scenarios of a variant: BENCH_SCENARIOS, less what the variant cannot or need not run.
variant_scenarios() {
  local keep=() scenario
  IFS=',' read -r -a wanted <<<"$ALL_SCENARIOS"
  for scenario in "${wanted[@]}"; do
    case "$1:$scenario" in
      ours-es256:refresh_token|ours-es256:introspection) ;;   # the ES256 target is client_credentials
      peer-jwt:introspection) ;;                              # node-oidc-provider does not introspect JWTs
      *) keep+=("$scenario") ;;
    esac
  done
  (IFS=','; echo "${keep[*]}")
}

# --- load generator -------------------------------------------------------------------------
if [[ ! -f "$BENCH_DIR/node_modules/.package-lock.json" || "$BENCH_DIR/package-lock.json" -nt "$BENCH_DIR/node_modules/.package-lock.json" ]]; then
  log "installing the load generator (npm ci)"
  (cd "$BENCH_DIR" && npm ci --no-audit --no-fund --loglevel=error) >&2
fi

# --- server build (Release; intermediate files stay in the work folder) ----------------------
log "building the server (Release)"
dotnet publish "$REPO_DIR/src/IdentityServer" -c Release -o "$WORK_DIR/publish" \
  --artifacts-path "$WORK_DIR/artifacts" -nologo -v quiet -m:1 >"$WORK_DIR/build.log" 2>&1 \
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
# ECDSA P-256 for ES256 access tokens (ours-es256), next to the RSA one, which keeps signing ID tokens.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -sha256 -days 30 -subj "/CN=IdP bench signing-ec" \
  -addext "keyUsage=critical,digitalSignature" -keyout "$WORK_DIR/signing-ec.key" -out "$WORK_DIR/signing-ec.crt" 2>/dev/null
openssl pkcs12 -export -inkey "$WORK_DIR/signing-ec.key" -in "$WORK_DIR/signing-ec.crt" \
  -out "$WORK_DIR/signing-ec.pfx" -passout "pass:$CERT_PASSWORD"

# --- PostgreSQL (ours-postgres) ----------------------------------------------------------------
# BENCH_POSTGRES is an Npgsql connection string (as the tests' IDP_TEST_POSTGRES); psql gets the
# same settings as libpq keywords to create and drop a database for this run.
pg_admin() {
  local libpq
  libpq="$(tr ';' '\n' <<<"$BENCH_POSTGRES" | awk -F= '
    { key = tolower($1); gsub(/^ +| +$/, "", key); value = substr($0, index($0, "=") + 1) }
    key == "host" || key == "server" { printf "host=%s ", value }
    key == "port" { printf "port=%s ", value }
    key == "username" || key == "user id" || key == "userid" || key == "user" { printf "user=%s ", value }
    key == "password" { printf "password=%s ", value }')"
  psql "${libpq}dbname=postgres" -v ON_ERROR_STOP=1 -qAt -c "$1"
}
postgres_connection_string() {
  # Npgsql takes the last value of a repeated key: the run's own database wins.
  echo "${BENCH_POSTGRES%;};Database=$PG_DATABASE"
}

# --- servers ----------------------------------------------------------------------------------
free_port() { node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }

wait_ready() { # url; fails (with the log's tail on stderr) when the server exits or never answers
  for _ in $(seq 1 120); do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      tail -n 20 "$SERVER_LOG" >&2
      log "error: the server exited during start-up"
      return 1
    fi
    if curl -fsS -o /dev/null --max-time 2 -H 'X-Forwarded-Proto: https' "$1/.well-known/openid-configuration" 2>/dev/null; then
      return 0
    fi
    sleep 0.5
  done
  tail -n 20 "$SERVER_LOG" >&2
  log "error: the server did not answer /.well-known/openid-configuration within 60 s"
  return 1
}

start_ours() { # variant
  local variant="$1" port extra=()
  port="$(free_port)"
  BASE_URL="http://127.0.0.1:$port"
  SERVER_LOG="$WORK_DIR/$variant.log"
  local connection="Data Source=$WORK_DIR/$variant.db"
  case "$variant" in
    ours-es256)
      extra+=(--Certificates:Signing:1:Path="$WORK_DIR/signing-ec.pfx"
              --Certificates:Signing:1:Password="$CERT_PASSWORD"
              --IdentityServer:AccessTokenAlgorithm=ES256) ;;
    ours-postgres)
      command -v psql >/dev/null 2>&1 || { log "error: 'psql' is required for BENCH_POSTGRES"; return 1; }
      PG_DATABASE="idp_bench_$(date +%s)_$$"
      pg_admin "CREATE DATABASE \"$PG_DATABASE\"" || { log "error: could not create database $PG_DATABASE with BENCH_POSTGRES"; PG_DATABASE=""; return 1; }
      connection="$(postgres_connection_string)"
      extra+=(--Database:Provider=Postgres) ;;
  esac
  log "starting our server ($variant) on $BASE_URL (Production)"
  (
    cd "$WORK_DIR/publish"
    export ASPNETCORE_ENVIRONMENT=Production
    export ASPNETCORE_FORWARDEDHEADERS_ENABLED=true
    unset DOTNET_ENVIRONMENT ASPNETCORE_URLS
    exec dotnet IdentityServer.dll \
      --urls "$BASE_URL" \
      --IdentityServer:Issuer="https://127.0.0.1:$port/" \
      --ConnectionStrings:Default="$connection" \
      --DataProtection:KeysPath="$WORK_DIR/keys-$variant" \
      --Seed:Path="$BENCH_DIR/seed.json" \
      --Certificates:Signing:0:Path="$WORK_DIR/signing.pfx" \
      --Certificates:Signing:0:Password="$CERT_PASSWORD" \
      --Certificates:Encryption:0:Path="$WORK_DIR/encryption.pfx" \
      --Certificates:Encryption:0:Password="$CERT_PASSWORD" \
      --Logging:LogLevel:Default=Warning \
      --IdentityServer:RefreshTokenReuseLeeway=00:00:30 \
      --RateLimits:Token:ExemptClients:0=bench-worker \
      --RateLimits:Token:ExemptClients:1=bench-web \
      "${extra[@]}" \
      ${BENCH_SERVER_ARGS:-}
  ) >"$SERVER_LOG" 2>&1 &
  SERVER_PID=$!
  wait_ready "$BASE_URL"
}

start_peer() { # variant (peer-jwt | peer-opaque)
  local variant="$1" port
  port="$(free_port)"
  BASE_URL="http://127.0.0.1:$port"
  SERVER_LOG="$WORK_DIR/$variant.log"
  log "starting the reference peer ($variant) on $BASE_URL (NODE_ENV=production)"
  (
    export NODE_ENV=production PEER_PORT="$port" PEER_TOKEN_FORMAT="${variant#peer-}" PEER_SEED="$BENCH_DIR/seed.json"
    exec node "$BENCH_DIR/peer/server.mjs"
  ) >"$SERVER_LOG" 2>&1 &
  SERVER_PID=$!
  wait_ready "$BASE_URL"
}

# --- measure: one server at a time, each with the same load generator and scenarios -------------
STARTED="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
load_before="$(cut -d' ' -f1 /proc/loadavg)"
CLK_TCK="$(getconf CLK_TCK)"
bench_status=0
server_alive=()
for variant in "${VARIANTS[@]}"; do
  scenarios="$(variant_scenarios "$variant")"
  [[ -n "$scenarios" ]] || { log "$variant: no scenario to run"; continue; }
  grants=code-flow
  started=0
  case "$variant" in
    ours*) start_ours "$variant" && started=1 ;;
    peer-*) start_peer "$variant" && started=1; grants=peer-route ;;
  esac
  if [[ "$started" != "1" ]]; then
    # The other servers are still measured; the report names this one and the end of its log.
    stop_server
    {
      echo "Did not start. The end of its log:"
      echo
      echo '```'
      [[ -f "$SERVER_LOG" ]] && grep -v '^   at ' "$SERVER_LOG" | tail -n 8
      echo '```'
    } >"$WORK_DIR/$variant.md"
    server_alive+=("$variant: did not start")
    bench_status=1
    continue
  fi
  log "$variant ready (pid $SERVER_PID): $scenarios"
  BENCH_URL="$BASE_URL" BENCH_LABEL="$variant" BENCH_SCENARIOS="$scenarios" BENCH_GRANTS="$grants" \
    BENCH_SERVER_PID="$SERVER_PID" BENCH_CLK_TCK="$CLK_TCK" BENCH_JSON="$WORK_DIR/$variant.json" \
    node "$BENCH_DIR/bench.js" >"$WORK_DIR/$variant.md" || bench_status=$?
  if kill -0 "$SERVER_PID" 2>/dev/null; then
    server_alive+=("$variant: yes")
  else
    server_alive+=("$variant: no (it exited during the run)")
    bench_status=1
  fi
  # The SQLite journal, read while the server still holds the database open.
  if [[ "$variant" == "ours" ]]; then
    DB_FILE="$WORK_DIR/ours.db"
    journal="no -wal file seen"
    [[ -f "$DB_FILE-wal" ]] && journal="WAL ($(du -h "$DB_FILE" | cut -f1) database, $(du -h "$DB_FILE-wal" | cut -f1) -wal file at the end)"
  fi
  stop_server
done
json_files=()
for variant in "${VARIANTS[@]}"; do
  [[ -f "$WORK_DIR/$variant.json" ]] && json_files+=("$WORK_DIR/$variant.json")
done
[[ ${#json_files[@]} -gt 0 ]] || die "no server variant produced results"
OUT="$RESULTS_DIR/latest.json" node -e '
  const fs = require("fs")
  const runs = process.argv.slice(1).map(f => JSON.parse(fs.readFileSync(f, "utf8")))
  fs.writeFileSync(process.env.OUT, JSON.stringify({ runs }, null, 2))
' "${json_files[@]}"
node "$BENCH_DIR/compare.js" "${json_files[@]}" >"$WORK_DIR/compare.md" || bench_status=$?

# --- report -----------------------------------------------------------------------------------
fs_type="$(stat -f -c %T "$WORK_DIR" 2>/dev/null || echo unknown)"
cpu_model="$(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//' || true)"
aspnet_runtime="$(dotnet --list-runtimes | awk '/^Microsoft.AspNetCore.App/ {print $2}' | sort -V | tail -n 1)"
commit="$(git -C "$REPO_DIR" rev-parse --short HEAD 2>/dev/null || echo unknown)"
[[ -n "$(git -C "$REPO_DIR" status --porcelain -- src 2>/dev/null)" ]] && commit="$commit (with uncommitted changes under src/)"
autocannon_version="$(node -p "require('$BENCH_DIR/node_modules/autocannon/package.json').version")"
peer_version="$(node -p "require('$BENCH_DIR/node_modules/oidc-provider/package.json').version")"
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
    END { flush() }' "$1" | sort | uniq -c | sort -rn | head -n 15 \
    | awk -F '\t' '{ match($1, /^ *[0-9]+ /); count = substr($1, RSTART, RLENGTH); gsub(/ /, "", count); level = substr($1, RSTART + RLENGTH)
                     printf "| %s | %s | %s | %s | %s |\n", count, level, $2, $3, $4 }'
}
{
  echo "# Load benchmark"
  echo
  echo "- Date: $STARTED; commit $commit"
  echo "- Machine: $(nproc) CPUs ($cpu_model), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo) memory; load generator on the same machine"
  echo "- .NET SDK $(dotnet --version), ASP.NET Core runtime $aspnet_runtime; Node.js $(node --version), autocannon $autocannon_version, node-oidc-provider $peer_version"
  echo "- Our server: Release build, ASPNETCORE_ENVIRONMENT=Production, plain HTTP on 127.0.0.1 with X-Forwarded-Proto: https (simulated TLS-terminating proxy), log level Warning"
  echo "- Reference peer: node-oidc-provider in one Node.js process, NODE_ENV=production, in-memory store, same address scheme and headers (bench/peer/server.mjs)"
  [[ -n "${BENCH_SERVER_ARGS:-}" ]] && echo "- Extra server arguments (diagnostic run, figures not comparable): ${BENCH_SERVER_ARGS}"
  [[ -n "${journal:-}" ]] && echo "- Database of \`ours\`: SQLite file on $fs_type, journal $journal"
  echo "- Servers measured one at a time, in this order: ${VARIANTS[*]}"
  echo
  for variant in "${VARIANTS[@]}"; do
    [[ -f "$WORK_DIR/$variant.md" ]] || continue
    echo "## \`$variant\`"
    echo
    cat "$WORK_DIR/$variant.md"
    echo
  done
  [[ -f "$WORK_DIR/compare.md" ]] && cat "$WORK_DIR/compare.md"
  echo
  echo "## Server processes"
  echo
  echo "- Still running at the end of their runs: $(IFS=';'; echo "${server_alive[*]}" | sed 's/;/; /g')"
  echo "- Load average (1 min) before the measurements: $load_before; after: $(cut -d' ' -f1 /proc/loadavg)"
  for variant in "${VARIANTS[@]}"; do
    variant_log="$WORK_DIR/$variant.log"
    [[ -f "$variant_log" ]] || continue
    if [[ "$variant" == peer-* ]]; then
      # The peer prints two start-up notices (runtime, development adapter) and a ready line.
      echo "- \`$variant\` log: $(grep -cvE '^(oidc-provider WARNING: (Unsupported runtime|a quick start development-only in-memory adapter)|peer: oidc-provider on )' "$variant_log" || true) lines besides the start-up notices (bench/results/server-$variant.log)"
      continue
    fi
    server_errors="$(grep -cE '^[0-9:._ -]*(fail|crit): ' "$variant_log" || true)"
    server_warnings="$(grep -cE '^[0-9:._ -]*warn: ' "$variant_log" || true)"
    echo "- \`$variant\` log: $server_errors entries at error level (fail/crit), $server_warnings warnings (bench/results/server-$variant.log)"
    if [[ "$server_errors" != "0" || "$server_warnings" != "0" ]]; then
      echo
      echo "  | count | level | category | message | exception |"
      echo "  |---:|---|---|---|---|"
      log_summary "$variant_log" | sed 's/^/  /'
      echo
    fi
  done
  echo
  echo "Expected in our server's log at the end of every warm-up and measurement, when autocannon closes its connections"
  echo "with requests still queued or running in the server: \`TaskCanceledException\` while redeeming a token (a running"
  echo "refresh request is cancelled) and \`BadHttpRequestException: Unexpected end of request content\` (the body of a"
  echo "queued request is gone). Nobody receives those responses, so they are not counted in the tables. On PostgreSQL"
  echo "a cancelled refresh also logs \`An error occurred using a transaction\`, and the first start logs a failed query of"
  echo "\`__EFMigrationsHistory\` (the new database has no tables yet)."
} >"$RESULTS_DIR/latest.md"

cat "$RESULTS_DIR/latest.md"
log "written to bench/results/latest.md"
exit "$bench_status"
