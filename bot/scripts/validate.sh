#!/usr/bin/env bash
# `rasa data validate` with zero warnings: Rasa prints some data warnings (unused responses,
# misaligned entities, ...) as UserWarning without failing, so their presence fails here.
# Library deprecation noise (SQLAlchemy, pkg_resources, TensorFlow) is not a data warning.
set -uo pipefail
cd "$(dirname "$0")/../.."
log=$(mktemp)
SQLALCHEMY_SILENCE_UBER_WARNING=1 PYTHONPATH=bot .venv-rasa/bin/rasa data validate --config bot/config.yml --domain bot/domain.yml \
  --data bot/data --fail-on-warnings >"$log" 2>&1
rc=$?
warnings=$(grep -E "UserWarning|WARNING|Misaligned" "$log" | grep -v -E "DeprecationWarning|MovedIn20Warning" || true)
if [ $rc -ne 0 ] || [ -n "$warnings" ]; then
  cat "$log"
  echo "rasa data validate: rc=$rc, warnings:" >&2
  echo "$warnings" >&2
  rm -f "$log"
  exit 1
fi
rm -f "$log"
echo "rasa data validate: OK, zero warnings"
