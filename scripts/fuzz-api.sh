#!/usr/bin/env bash
# Fuzzes the API against its own OpenAPI schema with schemathesis (every check), with
# valid admin tokens, on a stack of its own (embedded SecantusDB on a free port, the
# machine's RabbitMQ and Redis under a namespace of its own). Prints schemathesis's report.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
run_dir=$(mktemp -d /tmp/crm-fuzz-XXXX)
port=$($BIN/python -c "from infrastructure.mongo.embedded import free_port; print(free_port())")
mongo_port=$($BIN/python -c "from infrastructure.mongo.embedded import free_port; print(free_port())")
export CRM_ENV=development CRM_DATA_DIR=$run_dir CRM_EMBEDDED_MONGODB_PORT=$mongo_port CRM_API_PORT=$port
export CRM_AMQP_NAMESPACE="fuzz_$(basename "$run_dir")." CRM_REDIS_KEY_PREFIX="fuzz_$(basename "$run_dir"):"
export CRM_RATE_LIMIT_PER_USER=1000000/minute CRM_RATE_LIMIT_PER_BUSINESS=1000000/minute
$BIN/crm run > "$run_dir/run.log" 2>&1 &
supervisor=$!
trap 'kill -INT $supervisor 2>/dev/null; wait $supervisor 2>/dev/null; $BIN/python scripts/remove_namespace.py || true; rm -rf "$run_dir"' EXIT
for _ in $(seq 1 120); do curl -sf "http://127.0.0.1:$port/ready" >/dev/null && break; sleep 0.5; done
# Schemathesis makes up business ids ("0", ...): the token may act for them too.
token=$($BIN/crm token -b biz_1 -b 0 -r admin --hours 1)
$BIN/schemathesis run "http://127.0.0.1:$port/api/openapi.json" -H "Authorization: Bearer $token" \
  --checks all --max-examples "${FUZZ_EXAMPLES:-50}" --workers 2 "$@"
