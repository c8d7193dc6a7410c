#!/usr/bin/env bash
# Runs Sluice's tests on a fresh machine: installs and starts what they need
# (Redis on 127.0.0.1:6379, Debian's kcat as an independent Kafka client),
# checks the shared test data is beside the repository, then runs go test.
# Extra arguments go to go test (e.g. deploy/test.sh -run Golden ./cmd/...).
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
apt_updated=
apt_install() {
  if [ -z "$apt_updated" ]; then as_root apt-get update -qq; apt_updated=1; fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

command -v kcat >/dev/null 2>&1 || { echo "test.sh: installing kcat"; apt_install kcat; }
{ command -v redis-server && command -v redis-cli; } >/dev/null 2>&1 || { echo "test.sh: installing redis"; apt_install redis-server redis-tools; }

if ! redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; then
  echo "test.sh: starting redis on 127.0.0.1:6379"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
    --dir /tmp --logfile /tmp/sluice-test-redis.log
  for _ in $(seq 50); do
    redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG && break
    sleep 0.1
  done
  redis-cli -h 127.0.0.1 -p 6379 ping | grep -q PONG || { echo "test.sh: redis did not start" >&2; exit 1; }
fi

if [ ! -d ../shared/data ]; then
  echo "test.sh: ../shared/data is missing: the tests read the real lists and AML samples there" >&2
  exit 1
fi

if [ -n "${SLUICE_SETUP_ONLY:-}" ]; then exit 0; fi
if [ $# -eq 0 ]; then set -- ./...; fi
exec go test -count=1 -timeout 45m "$@"
