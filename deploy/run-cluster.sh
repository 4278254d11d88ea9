#!/usr/bin/env bash
# Runs the identity provider as a small cluster on this machine, the topology of a production
# deployment in miniature: nginx (TLS, round-robin) in front of N nodes sharing one PostgreSQL
# database, certificates and settings. See docs/deployment.md, "Several nodes on PostgreSQL".
#
# Settings (environment):
#   IDP_NODES       number of nodes (default 2)
#   IDP_PORT        HTTPS port nginx listens on; the issuer is https://localhost:IDP_PORT/ (default 8443)
#   IDP_NODE_PORT   first node's HTTP port on 127.0.0.1; node i listens on IDP_NODE_PORT+i-1 (default 5101)
#   IDP_CONNECTION  PostgreSQL connection string. Unset: a throw-away PostgreSQL cluster is created
#                   in the work folder from Debian's postgresql package (run as root or as postgres)
#   IDP_SEED        seed file (default: bench/seed.json, the benchmark's clients and user)
#   IDP_WORK        work folder: build, certificates, logs, nginx files (default deploy/.run)
# Ctrl-C stops nginx, the nodes and the throw-away database.
set -euo pipefail

DEPLOY_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$DEPLOY_DIR/.." && pwd)"
NODES="${IDP_NODES:-2}"
PORT="${IDP_PORT:-8443}"
NODE_PORT="${IDP_NODE_PORT:-5101}"
SEED="${IDP_SEED:-$REPO_DIR/bench/seed.json}"
WORK="${IDP_WORK:-$DEPLOY_DIR/.run}"
ISSUER="https://localhost:$PORT/"

log() { printf '[cluster %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

for tool in dotnet openssl curl nginx; do
  command -v "$tool" >/dev/null 2>&1 || die "'$tool' is required (nginx: apt-get install nginx)"
done
[[ "$NODES" =~ ^[1-9][0-9]?$ ]] || die "IDP_NODES must be 1-99"
[[ -f "$SEED" ]] || die "no seed file at $SEED"

mkdir -p "$WORK"
chmod 711 "$WORK"  # the throw-away database's owner must pass through; files inside stay private
PIDS=()
PG_BIN=""; PG_DATA=""
cleanup() {
  trap - EXIT INT TERM
  log "stopping"
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [[ -n "$PG_DATA" ]]; then
    as_postgres "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast stop >/dev/null 2>&1 || true
  fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

as_postgres() {
  if [[ "$(id -u)" == "0" ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# --- database ---------------------------------------------------------------------------------
if [[ -z "${IDP_CONNECTION:-}" ]]; then
  PG_BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
  [[ -n "$PG_BIN" ]] || die "set IDP_CONNECTION, or install Debian's postgresql for a throw-away database"
  PG_DIR="$WORK/postgres"
  rm -rf "$PG_DIR"; mkdir -p "$PG_DIR"
  [[ "$(id -u)" == "0" ]] && chown postgres "$PG_DIR"
  chmod 700 "$PG_DIR"
  PG_DATA="$PG_DIR/data"
  pg_port=55499
  while (echo >"/dev/tcp/127.0.0.1/$pg_port") 2>/dev/null; do pg_port=$((pg_port + 1)); done
  log "starting a throw-away PostgreSQL on 127.0.0.1:$pg_port"
  as_postgres "$PG_BIN/initdb" -D "$PG_DATA" -U postgres --auth=trust >"$PG_DIR/initdb.log" 2>&1 \
    || die "initdb failed: $(tail -5 "$PG_DIR/initdb.log")"
  as_postgres "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_DIR/log" \
    -o "-c listen_addresses=127.0.0.1 -p $pg_port -k $PG_DIR -c max_connections=300 -c shared_preload_libraries=pg_stat_statements" -w start >/dev/null \
    || die "PostgreSQL did not start: $(tail -5 "$PG_DIR/log")"
  IDP_CONNECTION="Host=127.0.0.1;Port=$pg_port;Username=postgres;Database=idp"
  IDP_CONNECTION_SHOWN="$IDP_CONNECTION (psql -h 127.0.0.1 -p $pg_port -U postgres -d idp)"
  as_postgres "$PG_BIN/createdb" -h 127.0.0.1 -p "$pg_port" -U postgres idp || die "createdb failed"
  # Statement statistics, read by bench/dbwork.js.
  as_postgres "$PG_BIN/psql" -q -h 127.0.0.1 -p "$pg_port" -U postgres -d idp -c "CREATE EXTENSION pg_stat_statements" \
    || die "could not enable pg_stat_statements"
  log "database: $IDP_CONNECTION_SHOWN"
fi

# --- build once, run the same files on every node ----------------------------------------------
log "building the server (Release)"
dotnet publish "$REPO_DIR/src/IdentityServer" -c Release -o "$WORK/publish" -nologo -v quiet >"$WORK/build.log" 2>&1 \
  || { tail -n 40 "$WORK/build.log" >&2; die "the build failed"; }

# --- certificates: the same encryption certificate on every node, and nginx's TLS pair -----------
# (signing keys are made and rotated by the nodes themselves, in the database: Keys:Mode=Automatic)
PASSWORD_FILE="$WORK/certificate-password"
[[ -f "$PASSWORD_FILE" ]] || (umask 077; openssl rand -hex 16 >"$PASSWORD_FILE")
CERT_PASSWORD="$(cat "$PASSWORD_FILE")"
make_cert() { # name keyUsage
  [[ -f "$WORK/$1.pfx" ]] && return
  (umask 077
   openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 365 -subj "/CN=idp-$1" \
     -addext "keyUsage=critical,$2" -keyout "$WORK/$1.key" -out "$WORK/$1.crt" 2>/dev/null
   openssl pkcs12 -export -inkey "$WORK/$1.key" -in "$WORK/$1.crt" -out "$WORK/$1.pfx" -passout "pass:$CERT_PASSWORD"
   rm -f "$WORK/$1.key")
}
make_cert encryption keyEncipherment
if [[ ! -f "$WORK/tls.key" ]]; then
  (umask 077
   openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 365 -subj "/CN=localhost" \
     -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -keyout "$WORK/tls.key" -out "$WORK/tls.crt" 2>/dev/null)
fi

# --- nodes ---------------------------------------------------------------------------------------
upstreams=""
for i in $(seq 1 "$NODES"); do
  port=$((NODE_PORT + i - 1))
  upstreams+="server 127.0.0.1:$port max_fails=1 fail_timeout=5s; "
  log "starting node-$i on http://127.0.0.1:$port (log: $WORK/node-$i.log)"
  (
    cd "$WORK/publish"
    unset DOTNET_ENVIRONMENT ASPNETCORE_URLS
    export ASPNETCORE_ENVIRONMENT=Production
    export Database__Provider=Postgres
    export ConnectionStrings__Default="$IDP_CONNECTION"
    export IdentityServer__Issuer="$ISSUER"
    export ForwardedHeaders__Enabled=true
    export ForwardedHeaders__KnownProxies__0=127.0.0.1
    export Certificates__Encryption__0__Path="$WORK/encryption.pfx"
    export Certificates__Encryption__0__Password="$CERT_PASSWORD"
    export Scheduler__InstanceId="node-$i"
    export Seed__Path="$SEED"
    exec dotnet IdentityServer.dll --urls "http://127.0.0.1:$port"
  ) >"$WORK/node-$i.log" 2>&1 &
  PIDS+=($!)
done

for i in $(seq 1 "$NODES"); do
  port=$((NODE_PORT + i - 1))
  for _ in $(seq 1 240); do
    curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$port/health/ready" 2>/dev/null && break
    kill -0 "${PIDS[$((i - 1))]}" 2>/dev/null || { tail -n 30 "$WORK/node-$i.log" >&2; die "node-$i exited during start-up"; }
    sleep 0.5
  done
  curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$port/health/ready" || die "node-$i is not ready after 120 s"
done

# --- nginx ---------------------------------------------------------------------------------------
NGINX_DIR="$WORK/nginx"
mkdir -p "$NGINX_DIR"
sed -e "s|@PREFIX@|$NGINX_DIR|g" -e "s|@LISTEN@|127.0.0.1:$PORT|g" \
    -e "s|@TLS_CERT@|$WORK/tls.crt|g" -e "s|@TLS_KEY@|$WORK/tls.key|g" -e "s|@UPSTREAMS@|$upstreams|g" \
    "$DEPLOY_DIR/nginx.conf.template" >"$NGINX_DIR/nginx.conf"
nginx -p "$NGINX_DIR" -c "$NGINX_DIR/nginx.conf" -e "$NGINX_DIR/error.log" &
PIDS+=($!)
for _ in $(seq 1 50); do
  curl -fsS -o /dev/null --max-time 2 --cacert "$WORK/tls.crt" "${ISSUER}health/ready" 2>/dev/null && break
  sleep 0.2
done
curl -fsS -o /dev/null --max-time 2 --cacert "$WORK/tls.crt" "${ISSUER}health/ready" \
  || { cat "$NGINX_DIR/error.log" >&2; die "nginx does not answer on $ISSUER"; }

log "ready: $ISSUER ($NODES nodes, TLS certificate $WORK/tls.crt)"
log "try:   curl --cacert $WORK/tls.crt ${ISSUER}.well-known/openid-configuration"
log "Ctrl-C stops everything"
wait -n "${PIDS[@]}" || true
die "a node or nginx exited; see the logs in $WORK"
