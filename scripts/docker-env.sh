#!/usr/bin/env bash
# A private docker engine and a loopback registry for the real-engine (e2e) tests.
#
#   scripts/docker-env.sh up <workdir>     install what is missing, start both, write <workdir>/env
#   scripts/docker-env.sh down <workdir>   remove the containers, stop both, remove <workdir>
#
# Everything lives under <workdir>: the engine's socket, data and exec roots, the registry's storage,
# the logs and pid files. The machine's own docker (/var/run/docker.sock, /var/lib/docker,
# /etc/docker) is never touched. Both verbs are idempotent. Needs root (dockerd does).
#
# <workdir>/env holds KEY=VALUE lines for the tests: DOCKER_HOST, DOCKER_CONFIG,
# PROTOCOL_E2E_REGISTRY (127.0.0.1:PORT, plain HTTP) and PROTOCOL_E2E_BASE_IMAGE (local/busybox:1).
set -euo pipefail

readonly BASE_IMAGE="local/busybox:1"
readonly PACKAGES=(docker.io docker-compose docker-registry busybox-static)

say() { printf 'docker-env: %s\n' "$*" >&2; }
fail() {
  say "error: $*"
  exit 1
}

usage() {
  echo "usage: $0 up|down <workdir>" >&2
  exit 2
}

# A process counts as gone once it no longer exists or is a zombie: PID 1 on this kind of machine
# reaps orphans slowly, so `kill -0` would see a killed daemon for seconds.
is_running() {
  local pid=$1 state
  [[ -r /proc/$pid/status ]] || return 1
  state=$(awk '/^State:/ {print $2}' "/proc/$pid/status" 2>/dev/null) || return 1
  [[ -n $state && $state != Z && $state != X ]]
}

read_pid() {
  local file=$1 pid
  [[ -s $file ]] || return 1
  pid=$(tr -dc 0-9 <"$file")
  [[ -n $pid ]] || return 1
  echo "$pid"
}

# Send TERM, wait up to $2 seconds, then KILL and wait again until the process is really gone.
stop_pid() {
  local pid=$1 grace=${2:-10} i
  is_running "$pid" || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < grace * 10; i++)); do
    is_running "$pid" || return 0
    sleep 0.1
  done
  say "pid $pid did not stop after ${grace}s: killing it"
  kill -KILL "$pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do
    is_running "$pid" || return 0
    sleep 0.1
  done
  fail "pid $pid is still running after SIGKILL"
}

# Processes started for this workdir (dockerd, its containerd and shims, the registry): their command
# lines name a path inside it. The caller's own command line holds only the workdir itself.
workdir_pids() {
  local dir=$1 cmdline pid args
  for cmdline in /proc/[0-9]*/cmdline; do
    pid=${cmdline#/proc/}
    pid=${pid%/cmdline}
    [[ $pid == "$$" || $pid == "$BASHPID" ]] && continue
    args=$(tr '\0' ' ' 2>/dev/null <"$cmdline") || continue
    if [[ $args == *"$dir/exec"* || $args == *"$dir/data"* || $args == *"$dir/registry.yml"* ]]; then
      is_running "$pid" && echo "$pid"
    fi
  done
  return 0
}

# Processes of this engine's containers, found by the container ids in their cgroup paths: a container
# outlives a killed dockerd and shim (it is reparented to PID 1), and its command line names nothing.
container_pids() {
  local dir=$1 ids=() file pid cgroup id
  [[ -d $dir/data/containers ]] || return 0
  mapfile -t ids < <(find "$dir/data/containers" -mindepth 1 -maxdepth 1 -type d -printf '%f\n')
  ((${#ids[@]} > 0)) || return 0
  for file in /proc/[0-9]*/cgroup; do
    pid=${file#/proc/}
    pid=${pid%/cgroup}
    cgroup=$(cat 2>/dev/null <"$file") || continue
    for id in "${ids[@]}"; do
      if [[ $cgroup == *"$id"* ]]; then
        is_running "$pid" && echo "$pid"
        break
      fi
    done
  done
  return 0
}

install_missing() {
  local missing=() pkg status
  for pkg in "${PACKAGES[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null) || status=""
    [[ $status == "install ok installed" ]] || missing+=("$pkg")
  done
  ((${#missing[@]} == 0)) && return 0
  [[ $EUID -eq 0 ]] || fail "packages missing (${missing[*]}) and not root: cannot apt-get install them"
  command -v apt-get >/dev/null 2>&1 || fail "packages missing (${missing[*]}) and there is no apt-get"
  say "installing ${missing[*]}"
  apt-get update -qq >&2 || fail "apt-get update failed"
  # Installing a Debian package never starts its service on this kind of machine, and no service is
  # wanted: the engine below is a private one.
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2 ||
    fail "apt-get install ${missing[*]} failed"
}

docker_private() { DOCKER_HOST="unix://$W/docker.sock" DOCKER_CONFIG="$W/client" docker "$@"; }

engine_answers() { docker_private version --format '{{.Server.Version}}' >/dev/null 2>&1; }

start_engine() {
  local pid i
  if pid=$(read_pid "$W/docker.pid") && is_running "$pid" && engine_answers; then
    say "engine already running (pid $pid)"
    return 0
  fi
  mkdir -p "$W/data" "$W/exec" "$W/client"
  # Its own daemon.json, and in it its own key.json: by default dockerd reads
  # /etc/docker/daemon.json and writes /etc/docker/key.json.
  printf '{"deprecated-key-path": "%s"}\n' "$W/key.json" >"$W/daemon.json"
  # --bridge=none: no docker0; compose still creates its project network. No iptables, no
  # forwarding or masquerading changes: the machine's network settings stay as they are.
  setsid dockerd \
    --host "unix://$W/docker.sock" \
    --data-root "$W/data" \
    --exec-root "$W/exec" \
    --pidfile "$W/docker.pid" \
    --config-file "$W/daemon.json" \
    --iptables=false --ip-forward=false --ip-masq=false --bridge=none \
    </dev/null >>"$W/dockerd.log" 2>&1 &
  pid=$!
  echo "$pid" >"$W/dockerd.launch.pid"
  for ((i = 0; i < 600; i++)); do
    engine_answers && return 0
    if ! is_running "$pid"; then
      tail -n 20 "$W/dockerd.log" >&2 || true
      fail "dockerd exited while starting (log: $W/dockerd.log)"
    fi
    sleep 0.1
  done
  tail -n 20 "$W/dockerd.log" >&2 || true
  fail "dockerd did not answer on $W/docker.sock within 60s"
}

# True when nothing accepts connections on 127.0.0.1:$1.
port_is_free() { ! (exec 2>/dev/null 3<>"/dev/tcp/127.0.0.1/$1"); }

registry_answers() {
  local port=$1 status
  status=$(
    exec 2>/dev/null
    exec 3<>"/dev/tcp/127.0.0.1/$port" || exit 1
    printf 'GET /v2/ HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
    head -n 1 <&3
  ) || return 1
  [[ $status == *" 200"* ]]
}

start_registry() {
  local pid port attempt i
  if pid=$(read_pid "$W/registry.pid") && is_running "$pid" && port=$(cat "$W/registry.port" 2>/dev/null) && registry_answers "$port"; then
    say "registry already running on 127.0.0.1:$port (pid $pid)"
    return 0
  fi
  [[ -n ${pid:-} ]] && stop_pid "$pid" 5
  mkdir -p "$W/registry"
  for ((attempt = 0; attempt < 5; attempt++)); do
    port=$((20000 + RANDOM % 40000))
    port_is_free "$port" || continue
    cat >"$W/registry.yml" <<EOF
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $W/registry
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
EOF
    setsid docker-registry serve "$W/registry.yml" </dev/null >>"$W/registry.log" 2>&1 &
    pid=$!
    echo "$pid" >"$W/registry.pid"
    for ((i = 0; i < 100; i++)); do
      if registry_answers "$port"; then
        echo "$port" >"$W/registry.port"
        return 0
      fi
      is_running "$pid" || break
      sleep 0.1
    done
    # Lost the race for the port, or it is slow: try another one.
    stop_pid "$pid" 5
  done
  tail -n 20 "$W/registry.log" >&2 || true
  fail "the registry did not start (log: $W/registry.log)"
}

# A busybox image made with no registry at all: a tar of /bin/busybox and its applet links.
build_base_image() {
  local rootfs="$W/rootfs" applet
  docker_private image inspect "$BASE_IMAGE" >/dev/null 2>&1 && return 0
  rm -rf "$rootfs"
  mkdir -p "$rootfs/bin" "$rootfs/tmp" "$rootfs/etc" "$rootfs/root" "$rootfs/www"
  cp /bin/busybox "$rootfs/bin/busybox"
  for applet in $("$rootfs/bin/busybox" --list); do
    [[ $applet == busybox ]] || ln -sf busybox "$rootfs/bin/$applet"
  done
  chmod 1777 "$rootfs/tmp"
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$rootfs/etc/passwd"
  printf 'root:x:0:\nnobody:x:65534:\n' >"$rootfs/etc/group"
  tar -C "$rootfs" -c . | docker_private import -c 'ENV PATH=/bin' -c 'CMD ["sh"]' - "$BASE_IMAGE" >/dev/null
  rm -rf "$rootfs"
}

env_is_healthy() {
  local pid port
  pid=$(read_pid "$W/docker.pid") && is_running "$pid" && engine_answers &&
    pid=$(read_pid "$W/registry.pid") && is_running "$pid" &&
    port=$(cat "$W/registry.port" 2>/dev/null) && registry_answers "$port"
}

write_env() {
  local port
  port=$(cat "$W/registry.port")
  cat >"$W/env.tmp" <<EOF
DOCKER_HOST=unix://$W/docker.sock
DOCKER_CONFIG=$W/client
PROTOCOL_E2E_REGISTRY=127.0.0.1:$port
PROTOCOL_E2E_BASE_IMAGE=$BASE_IMAGE
EOF
  mv "$W/env.tmp" "$W/env"
}

up() {
  [[ $EUID -eq 0 ]] || fail "needs root to run dockerd"
  install_missing
  local program
  for program in docker dockerd docker-compose docker-registry; do
    command -v "$program" >/dev/null 2>&1 || fail "$program is not on PATH after installing ${PACKAGES[*]}"
  done
  [[ -x /bin/busybox ]] || fail "/bin/busybox is missing (package busybox-static)"
  # Half an env (a daemon killed, a pid file left behind) is torn down and built again: dockerd
  # refuses to start over a pid file whose process is still a zombie.
  if [[ -e $W/docker.pid || -e $W/registry.pid ]] && ! env_is_healthy; then
    say "$W holds a broken env: tearing it down to start again"
    down
  fi
  mkdir -p "$W"
  # A failed start leaves nothing behind: no daemon, no mount, no dir.
  trap 'status=$?; if ((status != 0)); then say "up failed: tearing down"; down >&2 || true; fi' EXIT
  start_engine
  start_registry
  build_base_image
  write_env
  trap - EXIT
  say "ready: $(tr '\n' ' ' <"$W/env")"
}

down() {
  [[ -d $W ]] || return 0
  local pid networks=() ids=() id
  if [[ -S $W/docker.sock ]] && engine_answers; then
    mapfile -t ids < <(docker_private ps -aq)
    ((${#ids[@]} == 0)) || docker_private rm -f "${ids[@]}" >/dev/null 2>&1 || say "could not remove every container"
    mapfile -t networks < <(docker_private network ls -q --filter type=custom --no-trunc)
    docker_private network prune -f >/dev/null 2>&1 || true
  fi
  for pid in $(read_pid "$W/docker.pid" || true) $(read_pid "$W/dockerd.launch.pid" || true) $(read_pid "$W/registry.pid" || true); do
    stop_pid "$pid" 20
  done
  # Whatever is left when dockerd was killed: containerd, shims, and the containers' processes.
  for pid in $(workdir_pids "$W"); do
    stop_pid "$pid" 5
  done
  for pid in $(container_pids "$W"); do
    kill -KILL "$pid" 2>/dev/null || true
    stop_pid "$pid" 5
  done
  # Their empty cgroups (rmdir removes only empty ones).
  if [[ -d $W/data/containers ]]; then
    while read -r id; do
      find /sys/fs/cgroup -depth -type d -name "*$id*" -exec rmdir {} + 2>/dev/null || true
    done < <(find "$W/data/containers" -mindepth 1 -maxdepth 1 -type d -printf '%f\n')
  fi
  # Network namespaces and overlay mounts under the workdir, deepest first, else rm says "busy".
  local mounts
  mapfile -t mounts < <(awk -v dir="$W/" 'index($5, dir) == 1 {print $5}' /proc/self/mountinfo | sort -r)
  for id in "${mounts[@]}"; do
    umount "$id" 2>/dev/null || umount -l "$id" 2>/dev/null || say "could not unmount $id"
  done
  # Bridges of networks the engine did not get to remove. docker0 only exists if an engine was started
  # with a bridge: leave it, and docker's parent cgroups, while another dockerd (the machine's own) runs.
  for id in "${networks[@]}"; do
    if ip link show "br-${id:0:12}" >/dev/null 2>&1; then
      ip link del "br-${id:0:12}" || say "could not delete br-${id:0:12}"
    fi
  done
  if ! pgrep -x dockerd >/dev/null 2>&1; then
    if ip link show docker0 >/dev/null 2>&1; then
      ip link del docker0 || say "could not delete docker0"
    fi
    # The parent cgroups dockerd made, when empty.
    find /sys/fs/cgroup -mindepth 1 -maxdepth 2 -type d -name docker -exec rmdir {} + 2>/dev/null || true
  fi
  rm -rf "$W"
  say "down: $W removed"
}

(($# == 2)) || usage
W=$(realpath -m -- "$2")
readonly W
# down ends with rm -rf: refuse / and top-level dirs such as /tmp.
[[ $W == /?*/?* ]] || fail "refusing workdir $W: give a dedicated directory, e.g. \$(mktemp -d)"
case $1 in
  up) up ;;
  down) down ;;
  *) usage ;;
esac
