"""A process killed inside a transaction holds its documents only until the server reaps it.

The transaction stays open on the server after a `kill -9` (a closed connection does not
abort it), and whoever writes its documents next waits for the reaper. On the embedded
server that wait was 60 s (SecantusDB's default); it must be our own transaction time, as
mongod's `transactionLifetimeLimitSeconds` is in the production stack.
"""

import os
import signal
import subprocess
import sys

import pymongo
from pymongo import AsyncMongoClient

from infrastructure.mongo.transaction_time import TRANSACTION_SECONDS
from infrastructure.settings import Settings

WRITER = """
import sys, time
from pymongo import MongoClient
client = MongoClient(sys.argv[1])
documents = client[sys.argv[2]]["orphans"]
session = client.start_session()
session.start_transaction()
documents.update_one({"_id": "held"}, {"$set": {"by": "the killed writer"}}, upsert=True, session=session)
print("inside", flush=True)
time.sleep(600)
"""


async def test_a_killed_writers_transaction_stops_holding_its_document(settings: Settings):
    client: AsyncMongoClient = AsyncMongoClient(settings.mongodb_url)
    documents = client[settings.mongodb_database]["orphans"]
    await documents.insert_one({"_id": "held", "by": "nobody"})
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, settings.mongodb_url, settings.mongodb_database],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "inside"
    finally:
        os.kill(writer.pid, signal.SIGKILL)
        writer.wait()

    async def write(session) -> None:
        await documents.update_one({"_id": "held"}, {"$set": {"by": "the next writer"}}, session=session)

    # Within two transaction times, not the 60 s of SecantusDB's default reaper.
    try:
        with pymongo.timeout(2 * TRANSACTION_SECONDS):
            async with client.start_session() as session:
                await session.with_transaction(write)
        assert (await documents.find_one({"_id": "held"}))["by"] == "the next writer"
    finally:
        await client.drop_database(settings.mongodb_database)
        await client.close()
