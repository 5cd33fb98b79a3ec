#!/bin/sh
# The Dockerfile's build stage, in /src (the repository): leaves in $1 what the image carries in /opt/prism.
#   PRISM_BUILD=source (default)  install the proxy's packages here (compiling the native addons against this
#                                 image's glibc, libraries and Node), bundle, then scripts/docker-context.mjs
#   PRISM_BUILD=prebuilt          take apps/proxy/dist/docker as scripts/docker-context.mjs made it on the host
set -eu
dest="$1"
case "${PRISM_BUILD:-source}" in
  source | prebuilt) ;;
  *) echo "PRISM_BUILD must be source or prebuilt, not \"$PRISM_BUILD\"" >&2; exit 2 ;;
esac
if [ "${PRISM_BUILD:-source}" = prebuilt ]; then
  if [ ! -f apps/proxy/dist/docker/main.mjs ]; then
    echo "PRISM_BUILD=prebuilt: apps/proxy/dist/docker is missing; run node apps/proxy/scripts/docker-context.mjs first" >&2
    exit 1
  fi
  cp -a apps/proxy/dist/docker "$dest"
  exit 0
fi
pnpm_version="$(node -p "require('./package.json').packageManager.replace(/^pnpm@/, '')")"
npm install --global --no-fund --no-audit --loglevel=error "pnpm@$pnpm_version"
# As scripts/prism.mjs: the Kafka client links librdkafka's dependencies from Debian; node-gyp uses this Node's headers.
export CI=true CKJS_LINKING=dynamic npm_config_nodedir="$(dirname "$(dirname "$(command -v node)")")"
pnpm install --frozen-lockfile --filter '@prism/proxy...' --filter '@prism/console...'
node apps/proxy/scripts/docker-context.mjs --out "$dest"
