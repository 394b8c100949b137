#!/usr/bin/env bash
# The test rig: Docker Engine, local registry and test images, idempotent.
# Installs Debian packages when missing, starts dockerd when not answering,
# builds the FROM-scratch busybox test image. Safe to run again.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
state=${DOCKOPS_RIG_DIR:-/tmp/dockops-rig}
mkdir -p "$state"

need=()
command -v dockerd >/dev/null || need+=(docker.io)
command -v docker-registry >/dev/null || need+=(docker-registry)
[ -x /bin/busybox ] || need+=(busybox-static)
command -v ip >/dev/null || need+=(iproute2)
# Compose v1 (Python): Debian 12 has no Compose v2 plugin; tests/test_deploy.py runs it.
command -v docker-compose >/dev/null || need+=(docker-compose)
if [ ${#need[@]} -gt 0 ]; then
  echo "rig: installing ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >"$state/apt.log" 2>&1 \
    || { tail -20 "$state/apt.log"; exit 1; }
fi

# promtool checks deploy/prometheus-rules.yml. Only that binary is taken from Debian's
# `prometheus` package (96 MB installed, and its postinst starts a Prometheus server and
# pulls in node-exporter): the .deb is unpacked, nothing is installed and nothing runs.
if ! command -v promtool >/dev/null; then
  echo "rig: installing promtool from Debian's prometheus package"
  (cd "$state" && rm -f prometheus_*.deb && { apt-get download -qq prometheus 2>/dev/null \
     || { apt-get update -qq && apt-get download -qq prometheus; }; } \
   && dpkg-deb --fsys-tarfile prometheus_*.deb | tar -xO ./usr/bin/promtool >promtool.new \
   && install -m 0755 promtool.new /usr/local/bin/promtool && rm -f promtool.new prometheus_*.deb) \
    || { echo "rig: could not install promtool"; exit 1; }
fi

if ! docker version >/dev/null 2>&1; then
  echo "rig: starting dockerd (log: $state/dockerd.log)"
  setsid dockerd --host unix:///var/run/docker.sock >"$state/dockerd.log" 2>&1 < /dev/null &
  for _ in $(seq 1 150); do docker version >/dev/null 2>&1 && break; sleep 0.2; done
  docker version >/dev/null 2>&1 || { tail -30 "$state/dockerd.log"; echo "rig: dockerd did not start"; exit 1; }
fi

ctx="$state/busybox-ctx"
mkdir -p "$ctx"
cp -f /bin/busybox "$ctx/busybox"
cp -f "$here/tests/images/busybox.Dockerfile" "$ctx/Dockerfile"
docker build -q -t dockops-test/busybox:latest --label dockops.rig=busybox "$ctx" >"$state/build.log" 2>&1 \
  || { cat "$state/build.log"; exit 1; }
echo "rig: engine $(docker version --format '{{.Server.Version}}') ready, image dockops-test/busybox:latest built"
