#!/usr/bin/env bash
# The container test (e2e/src/container.test.ts): a Docker engine (docker.io: dockerd, containerd, runc; the
# test starts dockerd when it is installed but not running) and, on Debian bookworm, debootstrap: no image
# registry is reachable on this project's CI machine, so the test makes its base image from a debootstrap root
# filesystem (once; later runs reuse it). A no-op when both are there or a Docker engine already answers.
set -euo pipefail
need=()
docker info >/dev/null 2>&1 || command -v dockerd >/dev/null || need+=(docker.io)
if grep -qx 'ID=debian' /etc/os-release 2>/dev/null && grep -qx 'VERSION_CODENAME=bookworm' /etc/os-release; then
  command -v debootstrap >/dev/null || [ -x /usr/sbin/debootstrap ] || need+=(debootstrap)
fi
if [ ${#need[@]} -gt 0 ]; then
  echo "• installing ${need[*]} with apt-get"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
