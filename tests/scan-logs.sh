#!/usr/bin/env bash
# Scans the server logs of a test run made with IDP_TEST_LOG_DIR=DIR for anything secret:
#   - a secret the run used (DIR/secrets-*.txt: seed and configuration secrets, passwords, client
#     secrets, codes, tokens, cookie values and Authorization headers seen by the server),
#   - a JWT or JWE (eyJ...), a data-protection payload (cookies, antiforgery tokens: CfDJ8...),
#   - a Basic or Bearer credential.
# Prints the level and category of each offending record (never the record), and exits 1 if any.
# Usage: tests/scan-logs.sh DIR
set -euo pipefail

dir=${1:?usage: scan-logs.sh LOG_DIR}
shopt -s nullglob
logs=("$dir"/server-*.log)
secret_files=("$dir"/secrets-*.txt)
if (( ${#logs[@]} == 0 )) || (( ${#secret_files[@]} == 0 )); then
  echo "scan-logs: no server log or secret list in $dir: was the test run made with IDP_TEST_LOG_DIR=$dir?" >&2
  exit 1
fi

secrets=$(mktemp)
trap 'rm -f "$secrets"' EXIT
cat "${secret_files[@]}" | grep -a -v '^$' | sort -u > "$secrets" || true
records=$(cat "${logs[@]}" | wc -l)
echo "scan-logs: $records log records, $(wc -l < "$secrets") recorded secrets"
if (( records == 0 )) || [[ ! -s "$secrets" ]]; then
  echo "scan-logs: nothing to scan: the sink wrote no record or no secret" >&2
  exit 1
fi

failed=0
# $1: what is looked for; the rest: grep options. Lines are "LEVEL<TAB>CATEGORY<TAB>EVENT<TAB>TEXT".
check() {
  local what=$1; shift
  local hits
  hits=$(grep -a -h "$@" "${logs[@]}" | cut -f1-3 | sort | uniq -c || true)
  if [[ -n "$hits" ]]; then
    failed=1
    echo "scan-logs: $what found in log records of (count, level, category, event id):"
    echo "$hits" | sed 's/^/    /'
  fi
}
check "a secret used by the tests" -F -f "$secrets"
check "a JWT or JWE" -E 'eyJ[A-Za-z0-9_-]{10,}\.'
check "a data-protection payload" -F 'CfDJ8'
check "an Authorization header value" -E -i '(Basic|Bearer) [A-Za-z0-9._~+/=-]{16,}'

if (( failed )); then
  exit 1
fi
echo "scan-logs: no secret in the logs"
