#!/usr/bin/env bash
# Start, stop or query a single-node SLURM cluster (munge + slurmctld + slurmd) on this machine, for CI and
# for the tests marked `slurm`. Debian/Ubuntu, as root, no systemd needed.
#
#   bash hpc/slurm-local.sh start    # install if needed, configure, start; wait until the node is idle
#   bash hpc/slurm-local.sh status   # print daemon and node state (exit 0 if the node is usable)
#   bash hpc/slurm-local.sh stop     # cancel jobs, stop only the daemons this script started
#
# PIDs of the daemons this script started are kept in /run/slurm-local/; daemons that were already running
# (e.g. a munged started by apt or systemd) are reused and never stopped. Config, munge key, state and logs
# are kept between runs, so a second start takes well under a second.
# Environment: SLURM_LOCAL_TIMEOUT (seconds to wait for the node, default 60).
set -euo pipefail

STATE_DIR=/run/slurm-local
CONF_DIR=/etc/slurm
CONF=$CONF_DIR/slurm.conf
MARKER="# written by climmig hpc/slurm-local.sh"
LOG_DIR=/var/log/slurm
TIMEOUT=${SLURM_LOCAL_TIMEOUT:-60}
HOST=$(hostname -s)
PKGS=(slurmctld slurmd slurm-client munge)
BINS=(munged munge unmunge slurmctld slurmd sbatch sinfo squeue scontrol srun scancel)

log() { echo "slurm-local: $*" >&2; }
die() { log "$*"; show_logs; exit 1; }

show_logs() {
  local f
  for f in "$LOG_DIR"/slurmctld.log "$LOG_DIR"/slurmd.log /var/log/munge/munged.log "$STATE_DIR"/*.stderr; do
    [ -f "$f" ] || continue
    echo "----- tail of $f -----" >&2
    tail -n 25 "$f" >&2 || true
  done
}

need_root() { [ "$(id -u)" -eq 0 ] || { log "must run as root"; exit 1; }; }

missing_bins() {
  local b out=()
  for b in "${BINS[@]}"; do
    command -v "$b" >/dev/null 2>&1 || [ -x "/usr/sbin/$b" ] || out+=("$b")
  done
  echo "${out[*]:-}"
}

install_packages() {
  local missing
  missing=$(missing_bins)
  [ -z "$missing" ] && return 0
  command -v apt-get >/dev/null || die "missing $missing and no apt-get; install SLURM and munge by hand"
  log "installing ${PKGS[*]} (missing: $missing)"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y -q --no-install-recommends "${PKGS[@]}" >"$STATE_DIR/apt.log" 2>&1; then
    log "apt-get install failed; running apt-get update and retrying once"
    apt-get update -q >>"$STATE_DIR/apt.log" 2>&1 || true
    apt-get install -y -q --no-install-recommends "${PKGS[@]}" >>"$STATE_DIR/apt.log" 2>&1 \
      || { tail -n 20 "$STATE_DIR/apt.log" >&2; die "apt-get install ${PKGS[*]} failed"; }
  fi
  missing=$(missing_bins)
  [ -z "$missing" ] || die "still missing after install: $missing"
}

prepare_dirs() {
  getent passwd slurm >/dev/null || die "user slurm does not exist (the slurm packages create it)"
  getent passwd munge >/dev/null || die "user munge does not exist (the munge package creates it)"
  mkdir -p /var/spool/slurmctld /var/spool/slurmd "$LOG_DIR" /run/munge /var/log/munge "$CONF_DIR"
  chown slurm:slurm /var/spool/slurmctld "$LOG_DIR"
  chown munge:munge /run/munge /var/log/munge
  chmod 0755 /run/munge
  if [ ! -s /etc/munge/munge.key ]; then
    mkdir -p /etc/munge
    if command -v mungekey >/dev/null 2>&1; then
      mungekey --create --keyfile=/etc/munge/munge.key --force
    else
      dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
    fi
  fi
  chown munge:munge /etc/munge/munge.key
  chmod 0400 /etc/munge/munge.key
}

node_line() {
  # topology from `slurmd -C`, memory = MemTotal - 1 GiB
  local c cpus sockets cores threads mem_kb mem
  c=$(/usr/sbin/slurmd -C 2>/dev/null | head -n 1 || true)
  cpus=$(sed -n 's/.*CPUs=\([0-9]*\).*/\1/p' <<<"$c"); cpus=${cpus:-$(nproc)}
  sockets=$(sed -n 's/.*Boards=[0-9]* SocketsPerBoard=\([0-9]*\).*/\1/p' <<<"$c")
  [ -n "$sockets" ] || sockets=$(sed -n 's/.*Sockets=\([0-9]*\).*/\1/p' <<<"$c")
  cores=$(sed -n 's/.*CoresPerSocket=\([0-9]*\).*/\1/p' <<<"$c")
  threads=$(sed -n 's/.*ThreadsPerCore=\([0-9]*\).*/\1/p' <<<"$c")
  mem_kb=$(awk '/^MemTotal:/ {print $2}' /proc/meminfo)
  mem=$(( mem_kb / 1024 - 1024 )); [ "$mem" -gt 512 ] || mem=512
  if [ -n "$sockets" ] && [ -n "$cores" ] && [ -n "$threads" ]; then
    echo "NodeName=$HOST CPUs=$cpus Sockets=$sockets CoresPerSocket=$cores ThreadsPerCore=$threads RealMemory=$mem State=UNKNOWN"
  else
    echo "NodeName=$HOST CPUs=$cpus RealMemory=$mem State=UNKNOWN"
  fi
}

render_conf() {
  cat <<EOF
$MARKER
# Single-node Slurm cluster for CI. No systemd, no slurmdbd (sacct unavailable; see JobCompLoc).
ClusterName=localci
SlurmctldHost=$HOST
SlurmUser=slurm
SlurmdUser=root
AuthType=auth/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SwitchType=switch/none
ReturnToService=2
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldPort=6817
SlurmdPort=6818
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldLogFile=$LOG_DIR/slurmctld.log
SlurmdLogFile=$LOG_DIR/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU_Memory
DefMemPerCPU=1024
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
# one line per finished job (JobId, JobState, ExitCode, ...) since sacct is unavailable
JobCompType=jobcomp/filetxt
JobCompLoc=$LOG_DIR/jobcomp.log
InactiveLimit=0
KillWait=5
MinJobAge=300
SlurmctldTimeout=120
SlurmdTimeout=300
Waittime=0
$(node_line)
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
}

# write slurm.conf; echo "changed" if it differs from what was there
write_conf() {
  local tmp
  tmp=$(mktemp)
  render_conf >"$tmp"
  if [ -f "$CONF" ] && cmp -s "$tmp" "$CONF"; then
    rm -f "$tmp"; return 0
  fi
  refuse_foreign_daemons "$tmp"
  if [ -f "$CONF" ] && ! head -n 1 "$CONF" | grep -qF "$MARKER"; then
    cp -p "$CONF" "$CONF.bak.$(date +%Y%m%d%H%M%S)"
    log "backed up an existing $CONF that this script did not write"
  fi
  install -m 0644 "$tmp" "$CONF"
  rm -f "$tmp"
  echo changed
}

pid_alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }
pid_from() { [ -s "$1" ] && tr -dc '0-9' <"$1" || true; }

# running PID of a daemon, from its own pid file, checked against its command name
daemon_pid() {
  local name=$1 pidfile=$2 pid
  pid=$(pid_from "$pidfile")
  if pid_alive "$pid" && [ "$(cat /proc/"$pid"/comm 2>/dev/null)" = "$name" ]; then
    echo "$pid"
  fi
}

start_munge() {
  local pid
  pid=$(daemon_pid munged /run/munge/munged.pid)
  if [ -z "$pid" ]; then
    runuser -u munge -- /usr/sbin/munged 2>"$STATE_DIR/munged.stderr" || die "munged failed to start"
    for _ in $(seq 50); do pid=$(daemon_pid munged /run/munge/munged.pid); [ -n "$pid" ] && break; sleep 0.1; done
    [ -n "$pid" ] || die "munged did not write /run/munge/munged.pid"
    echo "$pid" >"$STATE_DIR/munged.pid"
    log "started munged (pid $pid)"
  elif [ ! -f "$STATE_DIR/munged.pid" ]; then
    log "reusing a munged this script did not start (pid $pid); stop will leave it alone"
  fi
  munge -n | unmunge >/dev/null 2>&1 || die "munge -n | unmunge failed"
}

start_daemon() {
  local name=$1 pid
  pid=$(daemon_pid "$name" "/run/$name.pid")
  [ -n "$pid" ] && return 0
  rm -f "/run/$name.pid"
  "/usr/sbin/$name" 2>"$STATE_DIR/$name.stderr" || die "$name failed to start"
  for _ in $(seq 100); do pid=$(daemon_pid "$name" "/run/$name.pid"); [ -n "$pid" ] && break; sleep 0.1; done
  [ -n "$pid" ] || die "$name did not write /run/$name.pid"
  echo "$pid" >"$STATE_DIR/$name.pid"
  log "started $name (pid $pid)"
}

# TERM, wait up to 20 s, then KILL
terminate() {
  local name=$1 pid=$2
  pid_alive "$pid" || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 200); do pid_alive "$pid" || break; sleep 0.1; done
  if pid_alive "$pid"; then
    log "$name (pid $pid) ignored TERM for 20 s; sending KILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  log "stopped $name (pid $pid)"
}

# the config is about to change: a running slurmctld/slurmd that this script did not start would have to be
# restarted, and this script never touches daemons it did not start; leave the config as it is and stop
refuse_foreign_daemons() {
  local name pid
  for name in slurmctld slurmd; do
    pid=$(daemon_pid "$name" "/run/$name.pid")
    if [ -n "$pid" ] && [ "$(pid_from "$STATE_DIR/$name.pid")" != "$pid" ]; then
      rm -f "$1"
      die "$name (pid $pid) is running but was not started by this script, and $CONF would change;" \
          "stop it and run start again ($CONF was left unchanged)"
    fi
  done
}

# restart a daemon this script started (its config changed)
restart_daemon() {
  local name=$1 pid
  pid=$(daemon_pid "$name" "/run/$name.pid")
  [ -n "$pid" ] || return 0
  terminate "$name" "$pid"
  rm -f "/run/$name.pid" "$STATE_DIR/$name.pid"
}

wait_ctld() {
  for _ in $(seq $(( TIMEOUT * 5 ))); do
    scontrol ping 2>/dev/null | grep -q "is UP" && return 0
    sleep 0.2
  done
  die "slurmctld did not answer scontrol ping within ${TIMEOUT}s"
}

node_state() { sinfo -h -n "$HOST" -o %T 2>/dev/null | head -n 1 | tr -d '*~#' || true; }

wait_node() {
  local state resumed=0 deadline=$(( SECONDS + TIMEOUT ))
  while [ $SECONDS -lt $deadline ]; do
    state=$(node_state)
    case "$state" in
      idle|mixed|allocated|completing) log "node $HOST is $state"; return 0 ;;
      down*|drain*|fail*)
        if [ $resumed -eq 0 ]; then
          scontrol update NodeName="$HOST" State=RESUME >/dev/null 2>&1 || true; resumed=1
        fi ;;
    esac
    sleep 0.2
  done
  die "node $HOST is not idle after ${TIMEOUT}s (state: ${state:-unknown})"
}

cmd_start() {
  need_root
  mkdir -p "$STATE_DIR"
  getent hosts "$HOST" >/dev/null \
    || die "hostname $HOST does not resolve (slurm.conf uses it for SlurmctldHost and NodeName); add it to /etc/hosts"
  install_packages
  prepare_dirs
  local changed
  changed=$(write_conf)
  start_munge
  if [ "$changed" = changed ]; then
    restart_daemon slurmd
    restart_daemon slurmctld
  fi
  start_daemon slurmctld
  wait_ctld
  start_daemon slurmd
  wait_node
  sinfo >&2
}

cmd_stop() {
  need_root
  local name pid
  if [ -n "$(daemon_pid slurmctld /run/slurmctld.pid)" ] && [ -f "$STATE_DIR/slurmctld.pid" ]; then
    scancel --full --user=root >/dev/null 2>&1 || true
    scancel --full >/dev/null 2>&1 || true
    for _ in $(seq 150); do [ -z "$(squeue -h 2>/dev/null)" ] && break; sleep 0.2; done
  fi
  for name in slurmd slurmctld munged; do
    [ -f "$STATE_DIR/$name.pid" ] || continue
    pid=$(pid_from "$STATE_DIR/$name.pid")
    if pid_alive "$pid" && [ "$(cat /proc/"$pid"/comm 2>/dev/null)" = "$name" ]; then
      terminate "$name" "$pid"
    fi
    rm -f "$STATE_DIR/$name.pid"
  done
  # slurmctld runs as user slurm and cannot delete its root-owned pid file; stale files break apt purge
  for name in slurmctld slurmd; do
    [ -n "$(daemon_pid "$name" "/run/$name.pid")" ] || rm -f "/run/$name.pid"
  done
  [ -n "$(daemon_pid munged /run/munge/munged.pid)" ] || rm -f /run/munge/munged.pid
}

cmd_status() {
  local name pid rc=0 own
  for name in munged slurmctld slurmd; do
    case $name in munged) pid=$(daemon_pid munged /run/munge/munged.pid) ;; *) pid=$(daemon_pid "$name" "/run/$name.pid") ;; esac
    own=""; [ -f "$STATE_DIR/$name.pid" ] && own=" (started by slurm-local.sh)"
    if [ -n "$pid" ]; then echo "$name: running, pid $pid$own"; else echo "$name: not running"; rc=1; fi
  done
  if [ $rc -eq 0 ]; then
    echo "node $HOST: $(node_state)"
    case "$(node_state)" in idle|mixed|allocated|completing) ;; *) rc=1 ;; esac
  fi
  return $rc
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 64 ;;
esac
