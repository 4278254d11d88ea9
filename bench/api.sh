#!/usr/bin/env bash
# Load benchmark of the client samples' API: builds the identity provider and the API in Release, starts
# the provider (Development: plain HTTP on loopback, generated certificates, the samples seed) and the API
# three times (introspection; introspection with a 10 s cache; local JWT validation), gets one
# client-credentials token and measures GET /api/hello with autocannon at 16 and 64 connections.
# Prints a Markdown table and writes it to bench/results/api.md. See src/ClientSamples/README.md.
#
# Settings (environment): BENCH_DURATION (s, default 10), BENCH_WARMUP (s, default 5),
# BENCH_CONNECTIONS (default 16,64), API_CACHE_SECONDS (default 10), BENCH_KEEP=1 keeps the work folder.
set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$BENCH_DIR/.." && pwd)"
RESULTS_DIR="$BENCH_DIR/results"
SEED="$REPO_DIR/src/ClientSamples/seed.json"
CACHE_SECONDS="${API_CACHE_SECONDS:-10}"

log() { printf '[api %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

for tool in dotnet node npm curl; do
  command -v "$tool" >/dev/null 2>&1 || die "'$tool' is required"
done

mkdir -p "$RESULTS_DIR"
WORK_DIR="$(mktemp -d "${TMPDIR:-/tmp}/api-bench.XXXXXX")"
# The samples' worker must bind its tokens with DPoP; this benchmark measures the API with one plain
# Bearer token, so its copy of the seed lets the worker's client go without.
sed 's/"RequireDPoP": true,//' "$SEED" >"$WORK_DIR/seed.json"
PIDS=()

cleanup() {
  local status=$?
  for pid in "${PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${PIDS[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  if [[ "${BENCH_KEEP:-0}" == "1" ]]; then log "work folder kept: $WORK_DIR"; else rm -rf "$WORK_DIR"; fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [[ ! -f "$BENCH_DIR/node_modules/.package-lock.json" || "$BENCH_DIR/package-lock.json" -nt "$BENCH_DIR/node_modules/.package-lock.json" ]]; then
  log "installing the load generator (npm ci)"
  (cd "$BENCH_DIR" && npm ci --no-audit --no-fund --loglevel=error) >&2
fi

free_port() { node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }

log "building the identity provider and the API (Release)"
for project in IdentityServer ClientSamples/Api; do
  name="$(basename "$project")"
  dotnet publish "$REPO_DIR/src/$project" -c Release -o "$WORK_DIR/$name" \
    --artifacts-path "$WORK_DIR/artifacts" -nologo -v quiet >"$WORK_DIR/build-$name.log" 2>&1 \
    || { tail -n 40 "$WORK_DIR/build-$name.log" >&2; die "the Release build of $project failed"; }
done

wait_for() { # url log
  for _ in $(seq 1 120); do
    curl -s -o /dev/null --max-time 2 "$1" && return 0
    sleep 0.5
  done
  tail -n 40 "$2" >&2
  die "$1 did not answer within 60 s"
}

IDP_PORT="$(free_port)"
ISSUER="http://localhost:$IDP_PORT/"
log "starting the identity provider on $ISSUER"
(
  cd "$WORK_DIR/IdentityServer"
  export ASPNETCORE_ENVIRONMENT=Development
  unset ASPNETCORE_URLS DOTNET_ENVIRONMENT
  exec dotnet IdentityServer.dll --urls "http://localhost:$IDP_PORT" \
    --ConnectionStrings:Default="Data Source=$WORK_DIR/idp.db" \
    --Certificates:DevelopmentPath="$WORK_DIR/certs" --DataProtection:KeysPath="$WORK_DIR/keys" \
    --Seed:Path="$WORK_DIR/seed.json" --Logging:LogLevel:Default=Warning
) >"$WORK_DIR/idp.log" 2>&1 &
PIDS+=($!)
wait_for "${ISSUER}.well-known/openid-configuration" "$WORK_DIR/idp.log"

TARGETS=""
start_api() { # label extra-args...
  local label="$1"; shift
  local port; port="$(free_port)"
  (
    cd "$WORK_DIR/Api"
    export ASPNETCORE_ENVIRONMENT=Production
    unset ASPNETCORE_URLS DOTNET_ENVIRONMENT
    exec dotnet ClientSamples.Api.dll --urls "http://127.0.0.1:$port" --Validation:Issuer="$ISSUER" \
      --Logging:LogLevel:Default=Warning "$@"
  ) >"$WORK_DIR/api-$label.log" 2>&1 &
  PIDS+=($!)
  wait_for "http://127.0.0.1:$port/api/hello" "$WORK_DIR/api-$label.log"
  TARGETS="${TARGETS:+$TARGETS,}$label=http://127.0.0.1:$port"
}
start_api "introspection" --Validation:Mode=Introspection
start_api "introspection + ${CACHE_SECONDS} s cache" --Validation:Mode=Introspection --Validation:IntrospectionCacheDuration="$CACHE_SECONDS"
start_api "jwt" --Validation:Mode=Jwt

log "getting a client-credentials token for samples-worker"
TOKEN="$(curl -fsS "${ISSUER}connect/token" -d grant_type=client_credentials -d client_id=samples-worker \
  -d client_secret=samples-worker-secret-not-for-production -d scope=samples-api \
  | node -e "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>console.log(JSON.parse(s).access_token))")"

cpu_model="$(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//' || true)"
{
  API_TARGETS="$TARGETS" API_TOKEN="$TOKEN" node "$BENCH_DIR/api.js"
  echo
  echo "$(nproc) vCPUs ($cpu_model), load generator on the same machine; commit $(git -C "$REPO_DIR" rev-parse --short HEAD 2>/dev/null || echo unknown)."
} | tee "$RESULTS_DIR/api.md"
