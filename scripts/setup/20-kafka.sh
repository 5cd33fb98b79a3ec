#!/usr/bin/env bash
# Kafka test dependencies: a JRE and Maven (Debian), and the Apache Kafka 4.x broker jars (Maven Central,
# via scripts/kafka/pom.xml), cached in ${PRISM_KAFKA_HOME:-~/.cache/prism}/kafka-<version>/libs and only
# fetched when missing. (The client's -dev libraries: 05-native-build-deps.sh.)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
. "$root/scripts/lib/maven-jars.sh"
maven_jars kafka "$root/scripts/kafka/pom.xml" kafka.version PRISM_KAFKA_HOME 'kafka_2.13-{v}.jar'
