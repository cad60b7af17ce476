#!/usr/bin/env bash
# A real single-node SLURM cluster with accounting (slurmdbd on MariaDB), for testing the slurm
# profile. Idempotent: `up` installs Debian's packages if missing and starts what is not running;
# `down` stops the daemons by their pid files, in reverse order. Needs root.
#
#   tests/slurm/cluster.sh up      # then: sinfo, sacct, snakemake --profile profiles/slurm
#   tests/slurm/cluster.sh down
set -euo pipefail

BASE=${SLURM_TEST_BASE:-/tmp/recipe-sandbox-slurm}
CONF=/etc/slurm
MARKER="# written by recipe-sandbox tests/slurm/cluster.sh"

log() { echo "[slurm-cluster] $*" >&2; }

running() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

install_packages() {
    local missing=()
    command -v slurmctld >/dev/null || missing+=(slurm-wlm)
    command -v munged >/dev/null || missing+=(munge)
    command -v mariadbd >/dev/null || missing+=(mariadb-server)
    command -v slurmdbd >/dev/null || missing+=(slurmdbd)
    if [ ${#missing[@]} -gt 0 ]; then
        log "installing ${missing[*]}"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
}

write_configs() {
    mkdir -p "$BASE"/{state,spool,run,log,mysql} "$CONF"
    local memory_mb
    memory_mb=$(( $(free -m | awk '/^Mem:/ {print $2}') * 8 / 10 ))
    cat >"$CONF/slurm.conf" <<EOF
$MARKER
ClusterName=localcluster
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=1000
ReturnToService=2
StateSaveLocation=$BASE/state
SlurmdSpoolDir=$BASE/spool
SlurmctldPidFile=$BASE/run/slurmctld.pid
SlurmdPidFile=$BASE/run/slurmd.pid
SlurmctldLogFile=$BASE/log/slurmctld.log
SlurmdLogFile=$BASE/log/slurmd.log
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
NodeName=localhost CPUs=$(nproc) RealMemory=$memory_mb State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
    cat >"$CONF/slurmdbd.conf" <<EOF
$MARKER
AuthType=auth/munge
DbdHost=localhost
SlurmUser=root
LogFile=$BASE/log/slurmdbd.log
PidFile=$BASE/run/slurmdbd.pid
StorageType=accounting_storage/mysql
StorageHost=localhost
StorageUser=root
StorageLoc=slurm_acct_db
EOF
    chmod 600 "$CONF/slurmdbd.conf"
}

wait_for() {  # wait_for SECONDS DESCRIPTION COMMAND...
    local seconds=$1 what=$2
    shift 2
    for _ in $(seq "$seconds"); do
        if "$@" >/dev/null 2>&1; then return 0; fi
        sleep 1
    done
    log "timed out waiting for $what"
    return 1
}

start_munge() {
    if pgrep -x munged >/dev/null; then return; fi
    mkdir -p /run/munge && chown munge:munge /run/munge
    [ -f /etc/munge/munge.key ] || { mungekey --create 2>/dev/null || create-munge-key -f; chown munge:munge /etc/munge/munge.key; }
    runuser -u munge -- /usr/sbin/munged
}

start_mariadb() {
    if running /run/mysqld/mariadb.pid; then return; fi
    if [ ! -d "$BASE/mysql/data/mysql" ]; then
        mariadb-install-db --user=mysql --datadir="$BASE/mysql/data" >/dev/null
    fi
    mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld "$BASE/mysql" && chown -R mysql:mysql "$BASE/mysql"
    (setsid mariadbd --user=mysql --datadir="$BASE/mysql/data" --skip-networking \
        --socket=/run/mysqld/mysqld.sock --pid-file=/run/mysqld/mariadb.pid \
        >"$BASE/log/mariadb.log" 2>&1 &)
    wait_for 60 mariadb mariadb-admin --socket=/run/mysqld/mysqld.sock ping
}

start_slurmdbd() {
    if running "$BASE/run/slurmdbd.pid"; then return; fi
    slurmdbd
    wait_for 60 "slurmdbd on port 6819" bash -c 'exec 3<>/dev/tcp/127.0.0.1/6819'
}

start_slurm() {
    if ! running "$BASE/run/slurmctld.pid"; then
        slurmctld
        wait_for 60 slurmctld bash -c 'scontrol ping | grep -q UP'
    fi
    if ! running "$BASE/run/slurmd.pid"; then
        slurmd -N localhost
    fi
    wait_for 60 "node registration" bash -c 'sinfo -h -N -o %T | grep -qv -E "^$"'
    if sinfo -h -N -o %T | grep -qiE "down|drain"; then
        scontrol update nodename=localhost state=resume || true
    fi
    wait_for 60 "an idle node" bash -c 'sinfo -h -N -o %T | grep -qiE "idle|mixed|alloc"'
}

stop_by_pid() {
    local pid_file=$1
    if running "$pid_file"; then
        kill "$(cat "$pid_file")"
        for _ in $(seq 30); do running "$pid_file" || break; sleep 1; done
    fi
    rm -f "$pid_file"
}

case "${1:-}" in
up)
    [ "$(id -u)" = 0 ] || { log "needs root"; exit 1; }
    install_packages
    write_configs
    start_munge
    start_mariadb
    start_slurmdbd
    start_slurm
    log "up: $(sinfo -h -o '%P %a %D %T')"
    ;;
down)
    stop_by_pid "$BASE/run/slurmd.pid"
    stop_by_pid "$BASE/run/slurmctld.pid"
    stop_by_pid "$BASE/run/slurmdbd.pid"
    stop_by_pid /run/mysqld/mariadb.pid
    pkill -x munged || true
    # With a slurm.conf but no controller, every SLURM client call (the Snakemake SLURM plugin
    # runs one at start-up) waits 10 s for slurmctld; remove the configs this script wrote.
    for file in "$CONF/slurm.conf" "$CONF/slurmdbd.conf"; do
        if [ -f "$file" ] && head -n 1 "$file" | grep -qF "$MARKER"; then rm -f "$file"; fi
    done
    log "down"
    ;;
*)
    echo "usage: $0 up|down" >&2
    exit 2
    ;;
esac
