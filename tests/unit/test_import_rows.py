"""The import's row handler against in-memory fakes of its ports: what each row does."""

from collections.abc import Sequence
from datetime import UTC, datetime

import pytest

from application.bulk.import_jobs import ImportJob, ImportRow, ImportStatus, OnMatch, RowOutcome, row_outcome_id
from application.bulk.import_rows import DryRunClaims, ImportRowsHandler
from application.commands.customer_changes import CustomerChanges
from application.commits import Commit
from application.errors import ContactAlreadyTaken, MessageAlreadyProcessed
from application.events import EventMetadata
from application.phone_regions import PhoneRegions
from application.ports import ContactKeyHolders, ProcessedMessages
from domain.customer.contact import email_key
from tests.fakes import FixedClock, InMemoryEventStore, NoOutcomes, StoreSnapshots

pytestmark = pytest.mark.unit
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


class GuardedEventStore(InMemoryEventStore, ContactKeyHolders, ProcessedMessages):
    """The in-memory store plus what the real one writes in the same transaction: the
    contact keys (the uniqueness guard) and the processed ids."""

    def __init__(self) -> None:
        super().__init__()
        self.keys: dict[tuple[str, str, str], str] = {}
        self.processed: set[str] = set()
        self.commits = 0

    async def append(self, commit: Commit, metadata: EventMetadata) -> int:
        if commit.processed_message_id in self.processed:
            raise MessageAlreadyProcessed(commit.processed_message_id or "")
        for key in commit.claims:
            holder = self.keys.get((key.business_id, key.kind, key.value))
            if holder not in (None, key.customer_id) and key not in commit.releases:
                raise ContactAlreadyTaken(key.kind, holder)
        position = await super().append(commit, metadata)
        for key in commit.releases:
            self.keys.pop((key.business_id, key.kind, key.value), None)
        for key in commit.claims:
            self.keys[(key.business_id, key.kind, key.value)] = key.customer_id
        if commit.processed_message_id:
            self.processed.add(commit.processed_message_id)
        self.commits += 1
        return position

    async def holder(self, business_id: str, kind: str, value: str) -> str | None:
        return self.keys.get((business_id, kind, value))

    async def already_processed(self, message_ids: Sequence[str]) -> set[str]:
        return self.processed.intersection(message_ids)


def handler(store: GuardedEventStore) -> ImportRowsHandler:
    changes = CustomerChanges(store, StoreSnapshots(store), NoOutcomes())
    return ImportRowsHandler(changes, store, store, PhoneRegions("PT", {}), FixedClock(NOW))


def job(**options) -> ImportJob:
    defaults = {
        "id": "imp_1", "business_id": "biz_1", "actor": "user_1", "correlation_id": "corr",
        "status": ImportStatus.RUNNING, "dry_run": False, "on_match": OnMatch.SKIP, "total": 3, "chunks": 1,
        "upload_id": "up", "created_at": NOW, "updated_at": NOW,
    }  # fmt: skip
    return ImportJob(**{**defaults, **options})


def rows(*fields: dict) -> list[ImportRow]:
    return [ImportRow(row=number, fields=values) for number, values in enumerate(fields, start=1)]


async def test_rows_about_one_person_apply_in_file_order():
    store = GuardedEventStore()
    chunk = rows(
        {"first_name": "Ana", "email": "ana@example.com"},
        {"last_name": "Silva", "email": "ANA@example.com"},
        {"first_name": "Rui", "phone": "912 345 678"},
    )
    outcome = await handler(store).execute(job(on_match=OnMatch.UPDATE), chunk, DryRunClaims())
    assert (outcome.created, outcome.updated, outcome.skipped, outcome.failed) == (2, 1, 0, 0)
    ana = store.snapshots[store.keys[("biz_1", "email", email_key("ana@example.com"))]]
    assert (ana.first_name, ana.last_name, ana.email, ana.version) == ("Ana", "Silva", "ANA@example.com", 2)


async def test_a_row_committed_by_an_earlier_attempt_counts_as_what_it_did_and_is_not_applied_again():
    store = GuardedEventStore()
    chunk = rows({"first_name": "Ana", "email": "ana@example.com"}, {"first_name": "Rui"})
    await handler(store).execute(job(), chunk[:1], DryRunClaims())
    commits = store.commits
    outcome = await handler(store).execute(job(), chunk, DryRunClaims())
    assert (outcome.created, outcome.skipped) == (2, 0)
    assert store.commits == commits + 1
    assert store.processed == {row_outcome_id("imp_1", number, RowOutcome.CREATED) for number in (1, 2)}


async def test_a_dry_run_decides_every_row_and_commits_none():
    store = GuardedEventStore()
    chunk = rows({"email": "ana@example.com"}, {"email": "ana@example.com", "last_name": "Silva"}, {"email": "bad"})
    outcome = await handler(store).execute(job(dry_run=True, on_match=OnMatch.UPDATE), chunk, DryRunClaims())
    assert (outcome.created, outcome.updated, outcome.failed) == (1, 1, 1)
    assert [(error.row, error.field) for error in outcome.errors] == [(3, "email")]
    assert store.commits == 0 and store.events == []


async def test_a_row_whose_phone_belongs_to_another_customer_fails_its_update_alone():
    store = GuardedEventStore()
    setup = rows({"first_name": "Ana", "email": "ana@example.com"}, {"first_name": "Rui", "phone": "912345678"})
    await handler(store).execute(job(id="imp_0"), setup, DryRunClaims())
    chunk = rows({"email": "ana@example.com", "phone": "912 345 678"}, {"first_name": "Zoe"})
    outcome = await handler(store).execute(job(on_match=OnMatch.UPDATE), chunk, DryRunClaims())
    assert (outcome.created, outcome.updated, outcome.failed) == (1, 0, 1)
    assert [(error.row, error.field) for error in outcome.errors] == [(1, "phone")]
