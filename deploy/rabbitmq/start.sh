#!/bin/sh
# Starts RabbitMQ with definitions.json (the crm vhost, one user per service, each with only
# the permissions it needs, no guest), then sets each user's password from the environment:
# a definitions file can only hold password hashes, and these must not live in the repository.
# The users have no password until then, so nobody can log in before this has run.
set -eu
rm -f /tmp/users-ready
docker-entrypoint.sh rabbitmq-server &
server=$!
rabbitmqctl --timeout 120 await_startup >/dev/null
set_password() { rabbitmqctl --quiet change_password "$1" "$2" >/dev/null; }
set_password crm-api "$CRM_RABBITMQ_API_PASSWORD"
set_password crm-relay "$CRM_RABBITMQ_RELAY_PASSWORD"
set_password crm-projector "$CRM_RABBITMQ_PROJECTOR_PASSWORD"
set_password crm-integration "$CRM_RABBITMQ_INTEGRATION_PASSWORD"
set_password crm-operator "$CRM_RABBITMQ_OPERATOR_PASSWORD"
set_password orders-service "$CRM_RABBITMQ_ORDERS_PASSWORD"
set_password payments-service "$CRM_RABBITMQ_PAYMENTS_PASSWORD"
touch /tmp/users-ready
wait "$server"
