#!/usr/bin/env bash
# `make run`: Rasa (REST channel + HTTP API), the action server and, when it exists, the
# channel gateway, with an embedded SQLite tracker store. Ctrl-C stops all of them.
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p var
export DATABASE_URL="${DATABASE_URL:-sqlite:///var/yibao.db}"  # handoff requests + gateway store
RASA_PORT="${RASA_PORT:-5005}"
ACTIONS_PORT="${ACTIONS_PORT:-5055}"
GATEWAY_PORT="${GATEWAY_PORT:-8000}"
pids=()
cleanup() {
  trap - INT TERM EXIT
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  echo "stopped."
}
trap cleanup INT TERM EXIT

.venv/bin/python -m rasa_sdk --actions actions.bot_actions --port "$ACTIONS_PORT" \
  >var/actions.log 2>&1 &
pids+=($!)
PYTHONPATH=bot .venv-rasa/bin/rasa run -m bot/models/current.tar.gz --enable-api \
  --port "$RASA_PORT" --endpoints bot/endpoints.yml --credentials bot/credentials.yml \
  >var/rasa.log 2>&1 &
pids+=($!)
if [ -f channels/__main__.py ]; then
  RASA_URL="http://127.0.0.1:$RASA_PORT" PORT="$GATEWAY_PORT" .venv/bin/python -m channels \
    >var/gateway.log 2>&1 &
  pids+=($!)
fi

echo "starting (logs in var/*.log) ..."
for _ in $(seq 1 180); do
  if curl -fsS "http://127.0.0.1:$RASA_PORT/status" >/dev/null 2>&1 \
     && curl -fsS "http://127.0.0.1:$ACTIONS_PORT/health" >/dev/null 2>&1; then
    break
  fi
  for pid in "${pids[@]}"; do
    kill -0 "$pid" 2>/dev/null || { echo "a process exited; see var/*.log"; exit 1; }
  done
  sleep 1
done
echo "Rasa          http://127.0.0.1:$RASA_PORT  (REST: POST /webhooks/rest/webhook)"
echo "Action server http://127.0.0.1:$ACTIONS_PORT/webhook"
[ -f channels/__main__.py ] && echo "Gateway       http://127.0.0.1:$GATEWAY_PORT"
echo "Ctrl-C stops all."
wait -n "${pids[@]}" || true
