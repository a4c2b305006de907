#!/usr/bin/env bash
# Make sure a Java 17+ runtime is present for the spark extra (PySpark 4 needs it).
# Installs Debian's openjdk-17-jre-headless when `java` is missing; safe to run again.
set -euo pipefail

java_major() {
  java -version 2>&1 | awk -F'"' '/version/ {split($2, v, "."); print (v[1] == "1" ? v[2] : v[1]); exit}'
}

if command -v java >/dev/null 2>&1; then
  major=$(java_major)
  if [ "${major:-0}" -ge 17 ]; then
    echo "Java $major found: $(command -v java)"
    exit 0
  fi
  echo "Java $major found, but the spark engine needs Java 17 or newer" >&2
fi

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing openjdk-17-jre-headless"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless >/dev/null
  java -version 2>&1 | head -1
else
  echo "Please install Java 17 (e.g. apt-get install openjdk-17-jre-headless) for --engine spark" >&2
  exit 1
fi
