#!/usr/bin/env bash
# Gremlin test dependencies: a JRE and Maven (Debian), and the Apache TinkerPop Gremlin Server + TinkerGraph
# jars (Maven Central, via scripts/gremlin/pom.xml), cached in
# ${PRISM_GREMLIN_HOME:-~/.cache/prism}/gremlin-server-<version>/libs and only fetched when missing.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
. "$root/scripts/lib/maven-jars.sh"
maven_jars gremlin-server "$root/scripts/gremlin/pom.xml" tinkerpop.version PRISM_GREMLIN_HOME \
  'gremlin-server-{v}.jar' 'tinkergraph-gremlin-{v}.jar'
