#!/usr/bin/env bash
# Starts the whole sample landscape on its fixed loopback ports and stops it on Ctrl+C:
#   identity provider  http://localhost:5000  (Development, samples seed)
#   web app 1          http://localhost:5002  (samples-web-1, calls the API)
#   web app 2          http://localhost:5003  (samples-web-2, the same build with another client id)
#   API                http://localhost:5004  (introspection; VALIDATION_MODE=Jwt for local validation)
#   downstream API     http://localhost:5005  (local validation; the API calls it with exchanged tokens)
#   worker             calls the API every 5 s with a client-credentials token
# Logs go to src/ClientSamples/.logs/<app>.log.
set -euo pipefail

SAMPLES_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$SAMPLES_DIR/../.." && pwd)"
LOG_DIR="$SAMPLES_DIR/.logs"
mkdir -p "$LOG_DIR"
cd "$REPO_DIR"

echo "Building..."
for project in src/IdentityServer src/ClientSamples/Api src/ClientSamples/WebApp src/ClientSamples/Worker; do
  dotnet build "$project" -nologo -v quiet >"$LOG_DIR/build.log" 2>&1 || { tail -n 30 "$LOG_DIR/build.log"; exit 1; }
done

PIDS=()
stop() {
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop EXIT
trap 'exit 130' INT TERM

start() { # name command...
  local name="$1"; shift
  "$@" >"$LOG_DIR/$name.log" 2>&1 &
  PIDS+=($!)
  echo "  $name (pid $!), log: $LOG_DIR/$name.log"
}

wait_for() { # url
  for _ in $(seq 1 120); do
    curl -s -o /dev/null --max-time 2 "$1" && return 0
    sleep 0.5
  done
  echo "$1 did not answer within 60 s"; exit 1
}

echo "Starting..."
start identity-server dotnet run --no-build --project src/IdentityServer -- --Seed:Path="$SAMPLES_DIR/seed.json"
wait_for http://localhost:5000/.well-known/openid-configuration
start api dotnet run --no-build --project src/ClientSamples/Api -- --Validation:Mode="${VALIDATION_MODE:-Introspection}" \
  --Downstream:BaseAddress=http://localhost:5005/
start downstream-api dotnet run --no-build --project src/ClientSamples/Api -- --Urls=http://localhost:5005 \
  --Validation:Mode=Jwt --Validation:Audience=samples-downstream-api
start webapp-1 dotnet run --no-build --project src/ClientSamples/WebApp --launch-profile app1
start webapp-2 dotnet run --no-build --project src/ClientSamples/WebApp --launch-profile app2
start worker dotnet run --no-build --project src/ClientSamples/Worker
wait_for http://localhost:5002/
wait_for http://localhost:5003/

cat <<'TEXT'

Ready. Open http://localhost:5002 and sign in as alice / Passw0rd!, then http://localhost:5003
(no password asked), "Call the API" on either, and end the session at
http://localhost:5000/Account/Sessions. Ctrl+C stops everything.
TEXT
wait
