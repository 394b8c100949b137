#!/usr/bin/env bash
# Make `dockops/python:3.11-slim`: a local equivalent of the official python:3.11-slim image,
# for machines that cannot pull from Docker Hub (CI here). Debian bookworm's python3 is 3.11.
#
#   bash deploy/make-base-image.sh [IMAGE]
#   docker build -f deploy/Dockerfile --build-arg BASE=dockops/python:3.11-slim -t dockops .
#
# Idempotent: does nothing when the image already exists (delete it to rebuild).
# Needs root (debootstrap chroots) and the Debian mirror (DEBIAN_MIRROR, default deb.debian.org).
# Exit status 3 means the mirror could not be reached; anything else non-zero is a real failure.
set -euo pipefail

image=${1:-dockops/python:3.11-slim}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
suite=bookworm

if docker image inspect "$image" >/dev/null 2>&1; then
  echo "make-base-image: $image already exists; nothing to do"
  exit 0
fi

# Tell "the mirror is unreachable" (exit 3: callers may skip) apart from real failures.
if ! python3 - "$mirror/dists/$suite/Release" <<'PY' >/dev/null 2>&1; then
import sys, urllib.request
urllib.request.urlopen(sys.argv[1], timeout=20).read(64)
PY
  echo "make-base-image: cannot reach the Debian mirror $mirror (set DEBIAN_MIRROR)" >&2
  exit 3
fi

if ! command -v debootstrap >/dev/null; then
  echo "make-base-image: installing debootstrap"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
fi

work=$(mktemp -d /tmp/dockops-base.XXXXXX)
trap 'rm -rf "$work"' EXIT
rootfs="$work/rootfs"

echo "make-base-image: debootstrap $suite from $mirror (log: $work/debootstrap.log)"
if ! debootstrap --variant=minbase --include=python3,python3-venv,python3-pip,ca-certificates \
    "$suite" "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1; then
  tail -30 "$work/debootstrap.log" >&2
  echo "make-base-image: debootstrap failed" >&2
  exit 1
fi

# Trim what an image never needs: package lists, caches, docs, man pages.
chroot "$rootfs" apt-get clean
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/usr/share/doc/* \
       "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* "$rootfs"/var/log/*.log
# The official image answers to `python` too.
ln -sf python3 "$rootfs/usr/bin/python"

tar --numeric-owner -C "$rootfs" -c . | docker import \
  --change 'ENV LANG=C.UTF-8' \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'CMD ["python3"]' \
  --change "LABEL org.opencontainers.image.description=\"Debian $suite minbase + python3 (local python:3.11-slim equivalent)\"" \
  - "$image" >/dev/null
echo "make-base-image: $image built ($(docker image inspect -f '{{.Size}}' "$image") bytes)"
