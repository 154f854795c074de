#!/usr/bin/env bash
# A MongoDB-compatible server for Switchboard's cluster-mode tests, on 127.0.0.1:27017 with a data
# folder of its own. No MongoDB server can be installed here (not in Debian, npm's
# mongodb-memory-server downloads from the internet), so one of two wire-compatible servers runs:
#
#   java (default)  mongo-java-server 1.47.0 (Maven Central) with its on-disk H2 MVStore backend,
#                   through a small launcher (scripts/services/mongo-java/) that makes every
#                   operation atomic (see MongoJavaServer.java). Passes every check of
#                   gridfs-proof.mjs.
#   ferretdb        FerretDB v1.24.2 with its SQLite backend, built from the Go module proxy.
#                   GridFS works, but concurrent $inc / findOneAndUpdate LOSE UPDATES (no atomic
#                   counters) and a unique-index violation on update returns code 1, not 11000.
#                   Kept for comparison only.
#
#   scripts/services/mongo.sh start    # build/cache if needed, start if not running, wait for ping
#   scripts/services/mongo.sh stop     # SIGTERM, wait for a clean exit (data flushed)
#   scripts/services/mongo.sh status   # exit 0 if it answers a ping, 1 otherwise
#   scripts/services/mongo.sh build    # only build/cache (e.g. in a CI setup step)
#
# Environment (all optional):
#   SWITCHBOARD_MONGO_ENGINE     java | ferretdb            (default java)
#   SWITCHBOARD_MONGO_DATA       data folder                (default /var/lib/switchboard-mongo)
#   SWITCHBOARD_MONGO_PORT       port on 127.0.0.1          (default 27017)
#   SWITCHBOARD_MONGO_TIMEOUT    seconds to wait for ready  (default 60)
#   SWITCHBOARD_CACHE            build cache                (default /var/cache/switchboard)
#   SWITCHBOARD_MONGO_JAVA_OPTS  JVM options for the java engine (default -Xmx1g)
#   SWITCHBOARD_MONGO_OPLOG      1 = java engine keeps an oplog, which makes change streams
#                                (collection.watch) work; off by default
#   SWITCHBOARD_MONGO_LOG_LEVEL  java engine log level: error|warn|info|debug (default warn)
set -euo pipefail

ENGINE="${SWITCHBOARD_MONGO_ENGINE:-java}"
DATA="${SWITCHBOARD_MONGO_DATA:-/var/lib/switchboard-mongo}"
PORT="${SWITCHBOARD_MONGO_PORT:-27017}"
TIMEOUT="${SWITCHBOARD_MONGO_TIMEOUT:-60}"
CACHE="${SWITCHBOARD_CACHE:-/var/cache/switchboard}"
JAVA_OPTS="${SWITCHBOARD_MONGO_JAVA_OPTS:--Xmx1g}"
OPLOG="${SWITCHBOARD_MONGO_OPLOG:-0}"
JAVA_LOG_LEVEL="${SWITCHBOARD_MONGO_LOG_LEVEL:-warn}"
FERRETDB_VERSION=v1.24.2

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PIDFILE="$DATA/server.pid"
ENGINEFILE="$DATA/server.engine"
LOG="$DATA/server.log"

log() { echo "[mongo] $*" >&2; }
die() { echo "[mongo] ERROR: $*" >&2; exit 1; }

case "$ENGINE" in java | ferretdb) ;; *) die "SWITCHBOARD_MONGO_ENGINE must be java or ferretdb, not '$ENGINE'" ;; esac

port_open() { (exec 2>/dev/null 3<>"/dev/tcp/127.0.0.1/$PORT"); }
ping() { node "$HERE/mongo-ping.mjs" "$PORT" 2000 2>/dev/null; }

# pid of our running server, if the pid file names a live process that is one of ours.
our_pid() {
  [ -s "$PIDFILE" ] || return 1
  local pid
  pid="$(cat "$PIDFILE")"
  [ -r "/proc/$pid/cmdline" ] || return 1
  tr '\0' ' ' < "/proc/$pid/cmdline" | grep -qE 'switchboard\.MongoJavaServer|ferretdb' || return 1
  echo "$pid"
}

# ---------------------------------------------------------------------------------------- java
JAVA_SRC="$HERE/mongo-java"
java_key() { cat "$JAVA_SRC/pom.xml" "$JAVA_SRC"/src/main/java/switchboard/*.java | sha256sum | cut -c1-16; }

build_java() {
  if ! command -v javac >/dev/null 2>&1 || ! command -v mvn >/dev/null 2>&1; then
    log "installing a JDK and Maven (Debian packages)"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends openjdk-17-jdk-headless maven >/dev/null \
      || die "apt-get install openjdk-17-jdk-headless maven failed"
  fi
  local key out
  key="$(java_key)"
  out="$CACHE/mongo-java/$key"
  JAVA_CP=""
  if [ -f "$out/ready" ]; then
    JAVA_CP="$out/classes:$(cat "$out/classpath.txt")"
    return 0
  fi
  log "building the mongo-java-server launcher (cache $out)"
  local t0=$SECONDS
  rm -rf "$out"
  mkdir -p "$out/classes" "$CACHE/m2"
  # Resolve the runtime classpath from Maven Central into a repository outside the repo.
  mvn -B -q -f "$JAVA_SRC/pom.xml" -Dmaven.repo.local="$CACHE/m2" \
    dependency:build-classpath -Dmdep.outputFile="$out/classpath.txt" -Dmdep.includeScope=runtime \
    >"$out/mvn.log" 2>&1 || { tail -n 30 "$out/mvn.log" >&2; die "mvn could not resolve mongo-java-server (log $out/mvn.log)"; }
  javac -nowarn -d "$out/classes" -cp "$(cat "$out/classpath.txt")" "$JAVA_SRC"/src/main/java/switchboard/*.java \
    || die "javac failed on $JAVA_SRC"
  touch "$out/ready"
  JAVA_CP="$out/classes:$(cat "$out/classpath.txt")"
  log "launcher built in $((SECONDS - t0))s"
}

launch_java() {
  build_java
  command -v java >/dev/null 2>&1 || die "java not found"
  local extra=()
  [ "$OPLOG" = 1 ] && extra+=(--oplog)
  # shellcheck disable=SC2086
  setsid java $JAVA_OPTS -Dorg.slf4j.simpleLogger.defaultLogLevel="$JAVA_LOG_LEVEL" \
    -cp "$JAVA_CP" switchboard.MongoJavaServer \
    --host 127.0.0.1 --port "$PORT" --data "$DATA/mongo-java.mv" "${extra[@]}" \
    >>"$LOG" 2>&1 </dev/null &
  echo $! >"$PIDFILE"
}

# ------------------------------------------------------------------------------------ ferretdb
FERRETDB_BIN="$CACHE/bin/ferretdb-$FERRETDB_VERSION"

build_ferretdb() {
  [ -x "$FERRETDB_BIN" ] && return 0
  command -v go >/dev/null 2>&1 || [ -x /usr/local/go/bin/go ] || die "Go toolchain not found (needed to build FerretDB)"
  command -v go >/dev/null 2>&1 || PATH="/usr/local/go/bin:$PATH"
  log "building FerretDB $FERRETDB_VERSION from the Go module proxy (a few minutes on 2 cores)"
  local t0=$SECONDS dir src="$CACHE/src/ferretdb-$FERRETDB_VERSION"
  # Go's module and build caches for this build live under the cache folder too.
  export GOMODCACHE="$CACHE/go/mod" GOCACHE="$CACHE/go/build" GOFLAGS="-modcacherw -buildvcs=false"
  export GOTOOLCHAIN=local
  # `go install .../cmd/ferretdb@version` builds, but the binary panics at start (build/version/
  # version.txt is generated by their Taskfile and not in the module). So: copy the module
  # source, write version.txt, build.
  dir="$(go mod download -json "github.com/FerretDB/FerretDB@$FERRETDB_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  { [ -n "$dir" ] && [ -d "$dir" ]; } || die "go mod download github.com/FerretDB/FerretDB@$FERRETDB_VERSION failed"
  rm -rf "$src"
  mkdir -p "$(dirname "$src")" "$CACHE/bin"
  cp -r "$dir" "$src"
  chmod -R u+w "$src"
  echo "$FERRETDB_VERSION" >"$src/build/version/version.txt"
  echo "switchboard" >"$src/build/version/package.txt"
  (cd "$src" && go build -trimpath -o "$FERRETDB_BIN.tmp" ./cmd/ferretdb) \
    || die "go build of FerretDB failed"
  mv "$FERRETDB_BIN.tmp" "$FERRETDB_BIN"
  # Only the binary is kept: the module/build caches (~1 GB) and the source copy served this
  # build alone.
  go clean -cache -modcache >/dev/null 2>&1 || true
  rm -rf "$CACHE/go" "$src"
  log "FerretDB built in $((SECONDS - t0))s: $FERRETDB_BIN"
}

launch_ferretdb() {
  build_ferretdb
  mkdir -p "$DATA/ferretdb-sqlite"
  setsid "$FERRETDB_BIN" --handler=sqlite --sqlite-url="file:$DATA/ferretdb-sqlite/" \
    --state-dir="$DATA" --listen-addr="127.0.0.1:$PORT" --debug-addr=- \
    --telemetry=disable --log-level=WARN \
    >>"$LOG" 2>&1 </dev/null &
  echo $! >"$PIDFILE"
}

# ------------------------------------------------------------------------------------ commands
build() {
  command -v node >/dev/null 2>&1 || die "node not found (needed for the readiness ping)"
  if [ "$ENGINE" = java ]; then build_java; else build_ferretdb; fi
}

start() {
  mkdir -p "$DATA"
  local pid
  if pid="$(our_pid)"; then
    local running
    running="$(cat "$ENGINEFILE" 2>/dev/null || echo '?')"
    [ "$running" = "$ENGINE" ] || die "a $running server (pid $pid) is already running; stop it first"
    wait_ready "$pid"
    log "already running ($ENGINE, pid $pid, mongodb://127.0.0.1:$PORT)"
    return 0
  fi
  if port_open; then
    die "127.0.0.1:$PORT is already taken by a process that is not ours (pid file $PIDFILE)"
  fi
  build
  log "starting $ENGINE on 127.0.0.1:$PORT (data $DATA, log $LOG)"
  echo "$ENGINE" >"$ENGINEFILE"
  local t0=$SECONDS
  if [ "$ENGINE" = java ]; then launch_java; else launch_ferretdb; fi
  wait_ready "$(cat "$PIDFILE")"
  log "ready after $((SECONDS - t0))s: mongodb://127.0.0.1:$PORT"
}

wait_ready() {
  local pid="$1" deadline=$((SECONDS + TIMEOUT))
  until ping; do
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 30 "$LOG" >&2 || true
      rm -f "$PIDFILE"
      die "the $ENGINE server exited during start-up (log $LOG)"
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      tail -n 30 "$LOG" >&2 || true
      die "the $ENGINE server did not answer a ping on 127.0.0.1:$PORT within ${TIMEOUT}s (log $LOG)"
    fi
    sleep 0.3
  done
}

stop() {
  local pid
  if ! pid="$(our_pid)"; then
    rm -f "$PIDFILE"
    if port_open; then
      log "not running per $PIDFILE, but something else listens on 127.0.0.1:$PORT (left alone)"
    else
      log "not running"
    fi
    return 0
  fi
  log "stopping $(cat "$ENGINEFILE" 2>/dev/null || echo server) (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + 30))
  while kill -0 "$pid" 2>/dev/null; do
    # A process that exited but was not reaped (no init reaping here) shows as a zombie.
    [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" = Z ] && break
    if [ "$SECONDS" -ge "$deadline" ]; then
      log "pid $pid did not exit 30s after SIGTERM; sending SIGKILL (data since the last commit may be lost)"
      kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.2
  done
  rm -f "$PIDFILE"
  log "stopped"
}

status() {
  local pid
  if pid="$(our_pid)" && ping; then
    echo "mongo: running ($(cat "$ENGINEFILE" 2>/dev/null || echo '?'), pid $pid, mongodb://127.0.0.1:$PORT, data $DATA)"
  else
    echo "mongo: not running"
    return 1
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  build) build ;;
  *) echo "usage: $0 {start|stop|status|build}" >&2; exit 2 ;;
esac
