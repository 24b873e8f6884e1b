"""`secantusd-py`, reaping an orphaned transaction after TRANSACTION_SECONDS, not 60 s.

SecantusDB reaps a transaction idle for 60 s by default, and its command line has no flag
for it: this passes the figure to its server. Until then, a process killed inside a
transaction holds that transaction's documents, and whoever writes them next waits: the
projector restarted after a `kill -9` waited about 55 s for its own checkpoints.
"""

import functools
import sys

import secantus.cli
from secantus.server import SecantusDBServer

from infrastructure.mongo.transaction_time import TRANSACTION_SECONDS


def main() -> int:
    secantus.cli.SecantusDBServer = functools.partial(  # type: ignore[misc]
        SecantusDBServer, transaction_lifetime_seconds=TRANSACTION_SECONDS
    )
    return secantus.cli.main()


if __name__ == "__main__":
    sys.exit(main())
