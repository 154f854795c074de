#!/usr/bin/env bash
# RabbitMQ for Switchboard's cluster-mode tests: install (Debian package), start detached on
# 127.0.0.1:5672, wait until it answers, stop. No systemd needed (runs as root in a container/VM).
#
#   scripts/services/rabbitmq.sh start    # install if missing, start if not running, wait for ready
#   scripts/services/rabbitmq.sh stop     # stop the broker and epmd
#   scripts/services/rabbitmq.sh status   # exit 0 if the broker answers, 1 otherwise
#
# Environment (all optional):
#   SWITCHBOARD_RABBITMQ_PORT      AMQP port (default 5672), always bound to 127.0.0.1
#   SWITCHBOARD_RABBITMQ_TIMEOUT   seconds to wait for readiness (default 60)
#   SWITCHBOARD_RABBITMQ_PLUGINS   plugins to enable (default rabbitmq_consistent_hash_exchange; "" = none)
set -euo pipefail

PORT="${SWITCHBOARD_RABBITMQ_PORT:-5672}"
TIMEOUT="${SWITCHBOARD_RABBITMQ_TIMEOUT:-60}"
PLUGINS="${SWITCHBOARD_RABBITMQ_PLUGINS-rabbitmq_consistent_hash_exchange}"

# A fixed node name that resolves everywhere (the default rabbit@$(hostname -s) breaks when the
# hostname does not resolve). Every rabbitmqctl/rabbitmq-diagnostics call below uses it; to run
# those tools by hand, export the same RABBITMQ_NODENAME.
export RABBITMQ_NODENAME="${RABBITMQ_NODENAME:-rabbit@localhost}"
export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
export RABBITMQ_NODE_PORT="$PORT"
# Inter-node (distribution) port and epmd: loopback only.
export RABBITMQ_DIST_PORT="${RABBITMQ_DIST_PORT:-$((PORT + 20000))}"
export ERL_EPMD_ADDRESS=127.0.0.1
export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="${RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS:-} -kernel inet_dist_use_interface {127,0,0,1}"

log() { echo "[rabbitmq] $*" >&2; }
die() { echo "[rabbitmq] ERROR: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root (apt-get install, and the broker runs as user rabbitmq)"

port_open() { (exec 2>/dev/null 3<>"/dev/tcp/127.0.0.1/$PORT"); }

# AMQP answers: the TCP port accepts, and the broker replies to the AMQP 0-9-1 protocol header
# with a connection.start frame (frame type 1). Pure bash, no client library needed.
amqp_ready() {
  local reply
  reply="$(
    exec 2>/dev/null
    exec 3<>"/dev/tcp/127.0.0.1/$PORT" || exit 1
    printf 'AMQP\x00\x00\x09\x01' >&3
    timeout 3 head -c 1 <&3 | od -An -tx1 | tr -d ' \n'
  )" || return 1
  [ "$reply" = "01" ]
}

node_ping() { rabbitmq-diagnostics -q ping >/dev/null 2>&1; }

install_pkg() {
  if command -v rabbitmq-server >/dev/null 2>&1 && dpkg -s rabbitmq-server >/dev/null 2>&1; then
    return 0
  fi
  log "installing the Debian package rabbitmq-server"
  # Keep the package's maintainer scripts from starting the service (no systemd here; we start
  # it ourselves below). Docker-style images already ship a policy-rc.d that says 101; only add
  # one if there is none, and remove only ours.
  local ours=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    ours=1
  fi
  local rc=0
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq || rc=$?
  if [ "$rc" = 0 ]; then
    apt-get install -y -qq --no-install-recommends rabbitmq-server >/dev/null || rc=$?
  fi
  [ -n "$ours" ] && rm -f /usr/sbin/policy-rc.d
  [ "$rc" = 0 ] || die "apt-get failed (exit $rc) installing rabbitmq-server"
  # In case the package managed to launch a broker with the default settings anyway.
  if RABBITMQ_NODENAME="rabbit@$(hostname -s)" rabbitmqctl -q status >/dev/null 2>&1; then
    log "stopping the broker the package started with default settings"
    RABBITMQ_NODENAME="rabbit@$(hostname -s)" rabbitmqctl -q stop >/dev/null 2>&1 || true
  fi
}

enable_plugins() {
  [ -n "$PLUGINS" ] || return 0
  # --offline edits the enabled_plugins file before boot: no extra start-up round trip.
  # shellcheck disable=SC2086
  rabbitmq-plugins -q enable --offline $PLUGINS >/dev/null \
    || die "could not enable plugins: $PLUGINS"
}

wait_ready() {
  local deadline=$((SECONDS + TIMEOUT))
  while :; do
    if amqp_ready && node_ping; then return 0; fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      log "last lines of the broker log:"
      tail -n 30 "/var/log/rabbitmq/${RABBITMQ_NODENAME}.log" >&2 2>/dev/null || true
      die "RabbitMQ did not accept AMQP on 127.0.0.1:$PORT within ${TIMEOUT}s"
    fi
    sleep 0.5
  done
}

start() {
  install_pkg
  # Check the port first: the Erlang CLI tools start epmd as a side effect, so only ping the
  # node when something is listening.
  if port_open; then
    if node_ping; then
      wait_ready
      log "already running ($RABBITMQ_NODENAME, amqp://127.0.0.1:$PORT)"
      return 0
    fi
    die "127.0.0.1:$PORT is already taken by something that is not our broker ($RABBITMQ_NODENAME)"
  fi
  enable_plugins
  log "starting ($RABBITMQ_NODENAME on 127.0.0.1:$PORT)"
  local t0=$SECONDS
  rabbitmq-server -detached >/dev/null 2>&1 || die "rabbitmq-server -detached failed"
  wait_ready
  log "ready after $((SECONDS - t0))s: amqp://guest:guest@127.0.0.1:$PORT"
}

stop() {
  if ! command -v rabbitmqctl >/dev/null 2>&1; then
    log "not installed; nothing to stop"
    return 0
  fi
  local pidfile="/var/lib/rabbitmq/mnesia/${RABBITMQ_NODENAME}.pid"
  if [ -s "$pidfile" ] || port_open; then
    log "stopping $RABBITMQ_NODENAME"
    # Given the pid file, rabbitmqctl stop waits until the Erlang VM has exited.
    if [ -s "$pidfile" ]; then
      rabbitmqctl -q stop "$pidfile" >/dev/null 2>&1 || true
    else
      rabbitmqctl -q stop >/dev/null 2>&1 || true
    fi
  else
    log "not running"
  fi
  local deadline=$((SECONDS + 30))
  while port_open; do
    [ "$SECONDS" -lt "$deadline" ] || die "port $PORT still open 30s after stop"
    sleep 0.3
  done
  # rabbitmqctl stop leaves epmd behind (and every CLI call starts it): stop it last.
  if command -v epmd >/dev/null 2>&1; then
    epmd -kill >/dev/null 2>&1 || true
  fi
  log "stopped"
}

status() {
  if amqp_ready && node_ping; then
    echo "rabbitmq: running ($RABBITMQ_NODENAME, amqp://127.0.0.1:$PORT)"
  else
    echo "rabbitmq: not running"
    return 1
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 {start|stop|status}" >&2; exit 2 ;;
esac
