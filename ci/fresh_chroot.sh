#!/usr/bin/env bash
# Verifies the README's claim on a fresh machine: a debootstrap'ed Debian 12 minbase chroot
# with only a clone of this repository runs `./bazelw test //...`, which installs every
# package it needs and passes. Prints the wall time. Needs root; not part of .ci/run.
#   ci/fresh_chroot.sh [dir]   (default /tmp/hakmem-chroot; removed and recreated)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=${1:-/tmp/hakmem-chroot}
HAKMEM_EXTRA_PKGS="debootstrap" ./bazelw --install-only
cleanup() {
  for m in sys dev proc; do umount -R -l "$ROOT/$m" 2>/dev/null || true; done
}
trap cleanup EXIT
cleanup
rm -rf "$ROOT"
t0=$SECONDS
debootstrap --variant=minbase bookworm "$ROOT" http://deb.debian.org/debian >/tmp/hakmem-debootstrap.log 2>&1
echo "debootstrap: $((SECONDS - t0)) s"
# Same package sources and resolver as the host (apt reaches only Debian's mirror).
cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
rm -f "$ROOT/etc/apt/sources.list"
cp /etc/apt/sources.list.d/debian.sources "$ROOT/etc/apt/sources.list.d/"
cp /etc/apt/apt.conf.d/99artifact-registry "$ROOT/etc/apt/apt.conf.d/" 2>/dev/null || true
mount -t proc proc "$ROOT/proc"
mount --rbind /sys "$ROOT/sys"
mount --rbind /dev "$ROOT/dev"
chroot "$ROOT" /bin/bash -c "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends git ca-certificates >/dev/null"
git clone -q . "$ROOT/work/hakmem"
t1=$SECONDS
chroot "$ROOT" /bin/bash -c "cd /work/hakmem && ./bazelw test //..." 2>&1 | tail -25
echo "fresh-chroot ./bazelw test //...: $((SECONDS - t1)) s wall (installs included)"
