#!/usr/bin/env bash
# Makes sure RabbitMQ and Redis answer on localhost. Uses running ones; otherwise installs
# them from Debian's packages (if missing) and starts them. MongoDB is not needed here:
# the service and the tests start an embedded SecantusDB themselves.
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null; then SUDO="sudo"; fi
apt_updated=""

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_for_port() { # port name seconds
  for _ in $(seq 1 "$(( $3 * 5 ))"); do
    if port_open "$1"; then echo "services: $2 is up on $1"; return 0; fi
    sleep 0.2
  done
  echo "services: $2 did not come up on port $1 within $3 s" >&2
  return 1
}

install_package() { # command package
  if command -v "$1" >/dev/null; then return 0; fi
  echo "services: installing $2 from the OS packages"
  if [ -z "$apt_updated" ]; then $SUDO apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$2" >/dev/null
}

if port_open 6379; then
  echo "services: Redis already answers on 6379"
else
  install_package redis-server redis-server
  $SUDO redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
  wait_for_port 6379 Redis 20
fi

if port_open 5672; then
  echo "services: RabbitMQ already answers on 5672"
else
  install_package rabbitmq-server rabbitmq-server
  $SUDO rabbitmq-server -detached
  wait_for_port 5672 RabbitMQ 90
fi

# The partitioned queues are fed by consistent-hash exchanges (docs/scaling.md): a plugin
# that ships with RabbitMQ, off by default. Enabling it is idempotent and needs no restart.
# The plugins file is read first: the Erlang CLI can hang on a host-name lookup (seen here
# for minutes), so it runs only when needed, and within a bound.
enabled_plugins=${RABBITMQ_ENABLED_PLUGINS_FILE:-/etc/rabbitmq/enabled_plugins}
if ! grep -qs rabbitmq_consistent_hash_exchange "$enabled_plugins" \
  && ! timeout 60 rabbitmq-plugins list -e -m 2>/dev/null | grep -qx rabbitmq_consistent_hash_exchange; then
  echo "services: enabling RabbitMQ's consistent-hash exchange"
  $SUDO timeout 120 rabbitmq-plugins enable rabbitmq_consistent_hash_exchange >/dev/null
fi
