#!/usr/bin/env bash
# A real Ray cluster on this machine, for testing data_juicer.executor: ray: a head node and one
# worker node (two raylets, each with its own CPUs and object store), started with the venv's
# pinned `ray` (envs/ray.yaml). Idempotent: `up` starts what is not running and waits until both
# nodes are alive; `down` stops each `ray start --block` by its pid file (which stops its node's
# processes). It never runs `ray stop`, which would kill every Ray process here.
#
#   tests/ray/cluster.sh up      # then: data_juicer.executor: ray, ray_address: <printed address>
#   tests/ray/cluster.sh down
# Settings (environment): RAY_TEST_BASE, RAY_TEST_PORT, RAY_TEST_DASHBOARD_PORT, RAY_TEST_CLIENT_PORT,
# RAY_TEST_CPUS (per node), RAY_TEST_OBJECT_STORE (bytes per node), RAY_BIN (the `ray` to run).
set -euo pipefail

BASE=${RAY_TEST_BASE:-/tmp/rs-ray}
PORT=${RAY_TEST_PORT:-6399}
DASHBOARD_PORT=${RAY_TEST_DASHBOARD_PORT:-8299}
CLIENT_PORT=${RAY_TEST_CLIENT_PORT:-10201}
CPUS=${RAY_TEST_CPUS:-1}
OBJECT_STORE=${RAY_TEST_OBJECT_STORE:-500000000}
HERE=$(cd "$(dirname "$0")" && pwd)
RAY=${RAY_BIN:-$HERE/../../.venv/bin/ray}
PYTHON=$(dirname "$RAY")/python
ADDRESS=127.0.0.1:$PORT

log() { echo "[ray-cluster] $*" >&2; }

running() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

alive_nodes() {
    "$PYTHON" - "$ADDRESS" <<'PY' 2>/dev/null
import sys
import ray
ray.init(address=sys.argv[1], logging_level="ERROR", log_to_driver=False)
print(sum(1 for node in ray.nodes() if node["Alive"]))
PY
}

wait_for_nodes() {  # wait_for_nodes COUNT SECONDS
    for _ in $(seq "$2"); do
        if [ "$(alive_nodes || echo 0)" -ge "$1" ]; then return 0; fi
        sleep 1
    done
    log "timed out waiting for $1 alive Ray nodes (logs: $BASE/log, $BASE/session_latest/logs)"
    return 1
}

start_node() {  # start_node NAME ARGS...: `ray start --block` in its own session, pid in $BASE/run
    local name=$1
    shift
    if running "$BASE/run/$name.pid"; then return; fi
    (setsid "$RAY" start --block --node-ip-address 127.0.0.1 --num-cpus "$CPUS" --num-gpus 0 \
        --object-store-memory "$OBJECT_STORE" --disable-usage-stats "$@" \
        >"$BASE/log/$name.log" 2>&1 & echo $! >"$BASE/run/$name.pid")
}

stop_by_pids() {  # stop_by_pids PID_FILE...: SIGTERM to all, then wait (a node takes ~15 s to stop)
    local pid_file
    for pid_file in "$@"; do
        if running "$pid_file"; then kill "$(cat "$pid_file")"; fi
    done
    for pid_file in "$@"; do
        for _ in $(seq 60); do running "$pid_file" || break; sleep 1; done
        if running "$pid_file"; then log "$pid_file: still running after 60 s, killing"; kill -9 "$(cat "$pid_file")"; fi
        rm -f "$pid_file"
    done
}

case "${1:-}" in
up)
    mkdir -p "$BASE"/{run,log}
    start_node head --head --port "$PORT" --temp-dir "$BASE" --include-dashboard true \
        --dashboard-host 127.0.0.1 --dashboard-port "$DASHBOARD_PORT" --ray-client-server-port "$CLIENT_PORT"
    wait_for_nodes 1 90
    start_node worker --address "$ADDRESS"
    wait_for_nodes 2 90
    log "up: 2 nodes at $ADDRESS, dashboard http://127.0.0.1:$DASHBOARD_PORT"
    echo "$ADDRESS"
    ;;
down)
    stop_by_pids "$BASE/run/worker.pid" "$BASE/run/head.pid"
    log "down"
    ;;
*)
    echo "usage: $0 up|down" >&2
    exit 2
    ;;
esac
