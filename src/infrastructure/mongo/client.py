from beanie import init_beanie
from pymongo import AsyncMongoClient, monitoring
from pymongo.asynchronous.database import AsyncDatabase

from infrastructure.mongo.customer_imports import IMPORT_DOCUMENTS
from infrastructure.mongo.documents import ALL_DOCUMENTS
from infrastructure.observability.metrics import MONGODB_COMMANDS

CONNECT_TIMEOUT_MS = 10_000


class _CountedCommands(monitoring.CommandListener):
    def started(self, event: monitoring.CommandStartedEvent) -> None:
        MONGODB_COMMANDS.labels(event.command_name).inc()

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        return None

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        return None


def create_mongo_client(url: str) -> AsyncMongoClient:
    # tz_aware: datetimes come back as UTC-aware, as the domain wrote them.
    # connectTimeoutMS also bounds the monitor's heartbeat, and a heartbeat that times out
    # interrupts every operation in flight (`_OperationCancelled`): at 2 s, a one-core
    # SecantusDB busy with a rebuild's flush of 1,000,000 events failed the rebuild.
    return AsyncMongoClient(
        url,
        tz_aware=True,
        serverSelectionTimeoutMS=5000,
        connectTimeoutMS=CONNECT_TIMEOUT_MS,
        event_listeners=[_CountedCommands()],
    )


async def init_documents(database: AsyncDatabase) -> None:
    """Binds the Beanie documents and creates their indexes."""
    await init_beanie(database=database, document_models=[*ALL_DOCUMENTS, *IMPORT_DOCUMENTS])
