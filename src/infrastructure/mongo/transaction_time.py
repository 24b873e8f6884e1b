"""How long a transaction of ours may last, client-side (`pymongo.timeout`).

The server reaps a transaction left open this long: a process killed inside one holds its
documents until then, since a closed connection does not abort it. So the production stack
sets mongod's `transactionLifetimeLimitSeconds` to the same figure, and the embedded server
is started with it (`embedded_server`); no transaction of ours may need longer.
"""

TRANSACTION_SECONDS = 10.0
