#!/usr/bin/env bash
# Debian -dev libraries that native addons built by `pnpm install` link against: the Kafka client
# (@confluentinc/kafka-javascript, built with CKJS_LINKING=dynamic). Runs before `pnpm install`, for
# `npm start` as well as `npm test`; a no-op when everything is installed.
set -euo pipefail
need=()
for pkg in zlib1g-dev libssl-dev libzstd-dev liblz4-dev libsasl2-dev libcurl4-openssl-dev; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "• installing ${need[*]} with apt-get"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}"
fi
