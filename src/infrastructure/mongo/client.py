from beanie import init_beanie
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from infrastructure.mongo.documents import ALL_DOCUMENTS


def create_mongo_client(url: str) -> AsyncMongoClient:
    # tz_aware: datetimes come back as UTC-aware, as the domain wrote them.
    return AsyncMongoClient(url, tz_aware=True, serverSelectionTimeoutMS=5000, connectTimeoutMS=2000)


async def init_documents(database: AsyncDatabase) -> None:
    """Binds the Beanie documents and creates their indexes."""
    await init_beanie(database=database, document_models=ALL_DOCUMENTS)
