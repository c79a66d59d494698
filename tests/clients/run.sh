#!/usr/bin/env bash
# The platforms' own client libraries, unchanged, against our simulators (ARCHITECTURE §10):
# a simulator that a real client cannot use is not faithful. Pinned in requirements.txt; runs
# in a venv under target/ (PyPI is the one registry it needs).
#   bash tests/clients/run.sh            (builds nothing: uses target/release/ordersync)
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${ORDERSYNC_BIN:-target/release/ordersync}
VENV=${ORDERSYNC_CLIENTS_VENV:-target/clients-venv}
GEN=target/clients-generated

[[ -x $BIN ]] || { echo "build first: cargo build --release --bin ordersync" >&2; exit 2; }
[[ -x $VENV/bin/python ]] || python3 -m venv "$VENV"
"$VENV/bin/pip" install -q --disable-pip-version-check -r tests/clients/requirements.txt

# eBay publishes no client for Sell Fulfillment, only the OpenAPI contract to generate one
# from: generate it from the copy the eBay crate tests against. (`--meta none` writes the
# package's modules themselves, so it goes one level down: its `types` must not shadow Python's.)
rm -rf "$GEN/ebay"
"$VENV/bin/openapi-python-client" generate --meta none \
  --path connectors/ebay/fixtures/sell_fulfillment_v1_oas3.json \
  --output-path "$GEN/ebay/fulfillment_api_client" >/dev/null 2>&1 || { echo "generating the eBay client failed" >&2; exit 1; }

out=$(mktemp)
"$BIN" sim >"$out" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; rm -f "$out"' EXIT
for _ in $(seq 1 100); do
  [[ $(wc -l <"$out") -ge 4 ]] && break
  sleep 0.1
done
# Simulators print as they bind: wait for the named one's line.
url() {
  local v
  for _ in $(seq 1 100); do
    v=$(awk -v n="$1" '$1 == n { print $2 }' "$out")
    [[ -n $v ]] && { echo "$v"; return; }
    sleep 0.1
  done
}

fails=0
run() {
  local name=$1; shift
  if "$@"; then echo "ok   $name"; else echo "FAIL $name"; fails=$((fails + 1)); fi
}
run "woocommerce: python client woocommerce" \
  "$VENV/bin/python" tests/clients/woocommerce_client.py "$(url woocommerce)"
run "amazon: python SDK amzn-sp-api" \
  "$VENV/bin/python" tests/clients/amazon_client.py "$(url amazon)"
run "ebay: client generated from the OpenAPI contract" \
  env PYTHONPATH="$GEN/ebay" "$VENV/bin/python" tests/clients/ebay_client.py "$(url ebay)"
run "aftership: python SDK aftership-tracking-sdk" \
  "$VENV/bin/python" tests/clients/aftership_client.py "$(url aftership)"
run "xero: python SDK xero-python (ApiClient.deserialize)" \
  "$VENV/bin/python" tests/clients/xero_client.py "$(url xero)"
[[ $fails == 0 ]] && echo "all clients passed" || { echo "$fails client(s) failed"; exit 1; }
