"""The access log's pages read bounded ranges of an index, whatever the filter: `explain`
on the real server counts the documents each page examines (a steady log: one read every
10 s up to now)."""

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from pymongo import AsyncMongoClient, monitoring

from application.ports import AccessLogQuery
from infrastructure.mongo.access_log import MongoAccessLog

pytestmark = pytest.mark.integration
LIMIT = 20
ENTRIES = 600
NOW = datetime.now(UTC)


class FindCommands(monitoring.CommandListener):
    def __init__(self) -> None:
        self.finds: list[dict] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command_name == "find":
            self.finds.append({key: event.command[key] for key in ("find", "filter", "sort", "limit")})

    def succeeded(self, event) -> None: ...

    def failed(self, event) -> None: ...


@pytest.fixture
async def seeded(container, settings):
    documents = [
        {
            "_id": str(uuid.uuid4()),
            "at": NOW - timedelta(seconds=(ENTRIES - index) * 10),
            "actor": f"user_{index % 3}",
            "business_id": "biz_1",
            "customer_ids": [f"cus_{index % 20}"],
            "action": "read",
            "correlation_id": "c",
        }
        for index in range(ENTRIES)
    ]
    await container.database()["access_log"].insert_many(documents)
    listener = FindCommands()
    client = AsyncMongoClient(settings.mongodb_url, tz_aware=True, event_listeners=[listener])
    database = client[settings.mongodb_database]
    yield documents, MongoAccessLog(database), listener, database
    await client.close()


SHAPES = [
    ({}, "business_newest_by_id"),
    ({"customer_id": "cus_7"}, "business_customer_newest_by_id"),
    ({"actor": "user_1"}, "business_actor_newest_by_id"),
    ({"after": NOW - timedelta(seconds=4000), "before": NOW - timedelta(seconds=1000)}, "business_newest_by_id"),
]


@pytest.mark.parametrize(("filters", "index"), SHAPES)
async def test_each_filter_pages_exactly_and_examines_about_a_page(seeded, filters, index):
    documents, store, listener, database = seeded
    expected = sorted(
        (
            document
            for document in documents
            if document["customer_ids"][0] == filters.get("customer_id", document["customer_ids"][0])
            and document["actor"] == filters.get("actor", document["actor"])
            and ("after" not in filters or document["at"] > filters["after"])
            and ("before" not in filters or document["at"] < filters["before"])
        ),
        key=lambda document: (document["at"], document["_id"]),
        reverse=True,
    )
    query = AccessLogQuery(
        business_id="biz_1",
        customer_id=filters.get("customer_id"),
        actor=filters.get("actor"),
        after=filters.get("after"),
        before=filters.get("before"),
        stopped_at=None,
        limit=LIMIT,
        now=NOW,
    )
    found, examined = [], []
    for _ in range(3):
        listener.finds.clear()
        page = await store.page(query)
        found += [entry_id for entry_id, _ in page.entries]
        total = 0
        for find in listener.finds:
            explained = await database.command({"explain": find, "verbosity": "executionStats"})
            total += explained["executionStats"]["totalDocsExamined"]
            print(
                "PLAN", find, explained["queryPlanner"]["winningPlan"], explained["executionStats"]["totalDocsExamined"]
            )
            assert _index_used(explained) == index
        examined.append(total)
        if page.resume is None:
            break
        query = replace(query, stopped_at=page.resume, window_seconds=page.window_seconds)
    assert found == [document["_id"] for document in expected][: len(found)]
    assert len(found) == min(3 * LIMIT, len(expected))
    assert max(examined) <= 5 * LIMIT, examined


def _index_used(explained: dict) -> str | None:
    stage = explained["queryPlanner"]["winningPlan"]
    while stage:
        if stage.get("stage") == "IXSCAN":
            return stage.get("indexName")
        stage = stage.get("inputStage")
    return None
