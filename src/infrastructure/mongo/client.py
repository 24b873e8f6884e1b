from beanie import init_beanie
from pymongo import AsyncMongoClient, monitoring
from pymongo.asynchronous.database import AsyncDatabase

from infrastructure.mongo.customer_imports import IMPORT_DOCUMENTS
from infrastructure.mongo.documents import ALL_DOCUMENTS
from infrastructure.observability.metrics import MONGODB_COMMANDS


class _CountedCommands(monitoring.CommandListener):
    def started(self, event: monitoring.CommandStartedEvent) -> None:
        MONGODB_COMMANDS.labels(event.command_name).inc()

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        return None

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        return None


def create_mongo_client(url: str) -> AsyncMongoClient:
    # tz_aware: datetimes come back as UTC-aware, as the domain wrote them.
    return AsyncMongoClient(
        url, tz_aware=True, serverSelectionTimeoutMS=5000, connectTimeoutMS=2000, event_listeners=[_CountedCommands()]
    )


async def init_documents(database: AsyncDatabase) -> None:
    """Binds the Beanie documents and creates their indexes."""
    await init_beanie(database=database, document_models=[*ALL_DOCUMENTS, *IMPORT_DOCUMENTS])
