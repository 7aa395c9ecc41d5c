#!/usr/bin/env bash
# Drives a gateway's HTTP API with curl, as a service in any language would. Start a gateway with a key first:
#   dotnet run --project Gateway.Host -- --Api:Keys:0=dev-key-0123456789ab
# then run: samples/http-api.sh [http://127.0.0.1:5000] [dev-key-0123456789ab]
set -euo pipefail
base=${1:-http://127.0.0.1:5000}
key=${2:-dev-key-0123456789ab}
api() { curl -sS -H "X-Api-Key: $key" -H "Content-Type: application/json" "$@"; echo; }

echo "# an event to everyone in room 'lobby' of the default namespace"
api -X POST "$base/api/v1/events" -d '{"event":"news","data":{"text":"hello from a service"},"room":"lobby"}' -w '%{http_code}'

echo "# an event to the whole namespace /chat"
api -X POST "$base/api/v1/events" -d '{"event":"notice","data":"maintenance at noon","namespace":"/chat"}' -w '%{http_code}'

echo "# who is in room 'lobby', with their data"
api "$base/api/v1/presence?namespace=/&room=lobby&data=true"

echo "# bad input gets a 4xx that says why"
api -X POST "$base/api/v1/events" -d '{"data":1}' -w ' %{http_code}'
