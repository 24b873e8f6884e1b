"""What each row of an import does: create a customer, update or skip the one it matches, or
fail with its errors.

- A row is first checked as a registration would check it (`Customer.register`): a bad
  email, a phone that is no number, an unknown type are the row's errors.
- It matches the active customer holding its email, else its phone: the uniqueness guard
  of the API (`contact_keys`, read for a whole chunk at once). With `on_match=skip` the row
  is then skipped; with `update`, its non-empty fields go through `update_profile`.
- Otherwise it registers a customer whose id comes from the row's content
  (`imported_customer_id`): importing the same file again meets that stream and creates
  nobody twice, even for a row with neither email nor phone.

Every change is one commit through `CustomerChanges.commit` (events, contact keys claimed,
snapshot), carrying a processed-message id that names the row and what it did. The rows
of a chunk are committed concurrently, so the event store's group commit writes dozens of
them per transaction. A commit that meets a concurrent claim of its email or phone
(another row of the file, or the API) is decided again: the row then matches.
"""

import asyncio
import hashlib
import json
from collections.abc import Sequence
from typing import Any

from pydantic import ConfigDict, Field, ValidationError

from application.bulk.import_jobs import (
    ChunkOutcome,
    ImportJob,
    ImportRow,
    OnMatch,
    RowError,
    RowOutcome,
    row_outcome_id,
)
from application.commands.customer_changes import CustomerChanges
from application.contact_uniqueness import keys_held
from application.errors import ContactAlreadyTaken, CustomerNotFound, MessageAlreadyProcessed, VersionConflict
from application.events import EventMetadata
from application.phone_regions import PhoneRegions
from application.ports import Clock, ContactKeyHolders, ProcessedMessages
from domain.customer.aggregate import Customer, ProfileInput
from domain.customer.profile import CustomerStatus
from domain.errors import CustomerNotActive, InvalidCustomerData

MAX_ATTEMPTS = 10
ContactKey = tuple[str, str]
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


class ImportedProfile(ProfileInput):
    """A row's fields, with the limits of `POST /customers`; an unknown field is an error."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    first_name: str | None = Field(default=None, max_length=200)
    last_name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=320)
    phone: str | None = Field(default=None, max_length=40)
    tags: tuple[str, ...] = Field(default=(), max_length=100)


def imported_customer_id(business_id: str, fields: dict[str, Any]) -> str:
    """A customer id (ULID-shaped) that the same row of the same business always gets."""
    canonical = json.dumps([business_id, fields], sort_keys=True, separators=(",", ":"), default=str)
    number = int.from_bytes(hashlib.sha256(canonical.encode()).digest()[:16], "big")
    return "cus_" + "".join(_CROCKFORD[(number >> (5 * shift)) & 31] for shift in reversed(range(26)))


class DryRunClaims:
    """In a dry run nothing is committed, so the contacts that earlier rows would have
    claimed are remembered here: a later row with one of them would match, not create."""

    def __init__(self) -> None:
        self.keys: set[ContactKey] = set()


class _Row:
    """One row being decided: its candidate registration, or its errors."""

    def __init__(self, row: ImportRow, candidate: Customer | None, errors: list[RowError]):
        self.row = row
        self.candidate = candidate
        self.errors = errors

    @property
    def contact_keys(self) -> list[ContactKey]:
        """Email first: a row whose email and phone belong to two customers is the email's."""
        if self.candidate is None:
            return []
        return sorted(self.candidate.state.contact_keys())


class ImportRowsHandler:
    def __init__(
        self,
        changes: CustomerChanges,
        contact_keys: ContactKeyHolders,
        processed: ProcessedMessages,
        regions: PhoneRegions,
        clock: Clock,
    ):
        self._changes = changes
        self._contact_keys = contact_keys
        self._processed = processed
        self._regions = regions
        self._clock = clock

    async def execute(self, job: ImportJob, rows: Sequence[ImportRow], dry_run_claims: DryRunClaims) -> ChunkOutcome:
        outcomes: dict[int, RowOutcome] = {}
        errors: list[RowError] = []
        done = await self._already_committed(job, rows)
        todo: list[_Row] = []
        for row in rows:
            if row.row in done:
                outcomes[row.row] = done[row.row]
            elif row.error is not None:
                outcomes[row.row] = RowOutcome.FAILED
                errors.append(row.error)
            else:
                todo.append(self._candidate(job, row))
        for wave in _waves(todo):
            holders = await self._contact_keys.holders(
                job.business_id, {key for item in wave for key in item.contact_keys}
            )
            if job.dry_run:
                results = [await self._dry_run(job, item, holders, dry_run_claims) for item in wave]
            else:
                results = await asyncio.gather(*(self._apply(job, item, holders) for item in wave))
            for item, outcome in zip(wave, results, strict=True):
                outcomes[item.row.row] = outcome
                errors.extend(item.errors)
        counted = [outcomes[row.row] for row in rows]
        return ChunkOutcome(
            created=counted.count(RowOutcome.CREATED),
            updated=counted.count(RowOutcome.UPDATED),
            skipped=counted.count(RowOutcome.SKIPPED),
            failed=counted.count(RowOutcome.FAILED),
            errors=tuple(sorted(errors, key=lambda error: error.row)),
        )

    async def _already_committed(self, job: ImportJob, rows: Sequence[ImportRow]) -> dict[int, RowOutcome]:
        """Rows a previous attempt at this chunk committed (a worker stopped mid-chunk)."""
        if job.dry_run:
            return {}
        ids = {
            row_outcome_id(job.id, row.row, outcome): (row.row, outcome)
            for row in rows
            for outcome in (RowOutcome.CREATED, RowOutcome.UPDATED)
        }
        committed = await self._processed.already_processed(list(ids))
        return dict(ids[outcome_id] for outcome_id in committed)

    def _candidate(self, job: ImportJob, row: ImportRow) -> _Row:
        fields = row.fields or {}
        try:
            profile = ImportedProfile.model_validate(fields)
            candidate = Customer.register(
                customer_id=imported_customer_id(job.business_id, fields),
                business_id=job.business_id,
                profile=profile,
                default_region=self._regions.region_for(job.business_id),
                now=self._clock.now(),
            )
        except ValidationError as error:
            return _Row(row, None, [_row_error(row.row, item) for item in error.errors()])
        except InvalidCustomerData as error:
            return _Row(
                row, None, [RowError(row=row.row, field=item.field, message=item.message) for item in error.errors]
            )
        return _Row(row, candidate, [])

    async def _apply(self, job: ImportJob, item: _Row, holders: dict[ContactKey, str]) -> RowOutcome:
        if item.candidate is None:
            return RowOutcome.FAILED
        metadata = EventMetadata(
            business_id=job.business_id,
            actor=job.actor,
            correlation_id=job.correlation_id,
            causation_id=f"{job.id}:{item.row.row}",
        )
        for _ in range(MAX_ATTEMPTS):
            holder = next((holders[key] for key in item.contact_keys if key in holders), None)
            try:
                if holder is None:
                    return await self._create(job, item, metadata)
                return await self._update(job, item, holder, metadata)
            except _MatchAgain:
                holders = await self._contact_keys.holders(job.business_id, item.contact_keys)
        raise VersionConflict(item.candidate.id, -1)

    async def _create(self, job: ImportJob, item: _Row, metadata: EventMetadata) -> RowOutcome:
        assert item.candidate is not None
        try:
            # A commit that fails leaves the registration's events pending: it can go again.
            await self._changes.commit(
                job.business_id,
                [item.candidate],
                frozenset(),
                metadata,
                processed_message_id=row_outcome_id(job.id, item.row.row, RowOutcome.CREATED),
            )
        except ContactAlreadyTaken:
            raise _MatchAgain() from None  # another row (or a client) took the email or phone first
        except VersionConflict:
            return RowOutcome.SKIPPED  # this very row was imported before, by another import
        except MessageAlreadyProcessed:
            return RowOutcome.CREATED  # another worker committed this row meanwhile
        return RowOutcome.CREATED

    async def _update(self, job: ImportJob, item: _Row, holder: str, metadata: EventMetadata) -> RowOutcome:
        if job.on_match == OnMatch.SKIP:
            return RowOutcome.SKIPPED
        try:
            customer = await self._changes.load(job.business_id, holder, fresh=True)
        except CustomerNotFound:
            raise _MatchAgain() from None
        if customer.state.status != CustomerStatus.ACTIVE:
            raise _MatchAgain()
        keys_before = keys_held([customer])
        if not self._changed_profile(item, customer):
            return RowOutcome.SKIPPED if not item.errors else RowOutcome.FAILED
        if job.dry_run:
            return RowOutcome.UPDATED
        try:
            await self._changes.commit(
                job.business_id,
                [customer],
                keys_before,
                metadata,
                processed_message_id=row_outcome_id(job.id, item.row.row, RowOutcome.UPDATED),
            )
        except VersionConflict:
            raise _MatchAgain() from None
        except MessageAlreadyProcessed:
            return RowOutcome.UPDATED
        except ContactAlreadyTaken as taken:
            item.errors.append(
                RowError(row=item.row.row, field=taken.kind, message="belongs to another active customer")
            )
            return RowOutcome.FAILED
        return RowOutcome.UPDATED

    def _changed_profile(self, item: _Row, customer: Customer) -> bool:
        """Applies the row's given fields to the matched customer; False when nothing changes
        (or the change is refused, with the row's errors)."""
        try:
            customer.update_profile(
                item.row.fields or {}, self._regions.region_for(customer.state.business_id), self._clock.now()
            )
        except InvalidCustomerData as error:
            item.errors.extend(RowError(row=item.row.row, field=e.field, message=e.message) for e in error.errors)
            return False
        except CustomerNotActive as error:
            item.errors.append(RowError(row=item.row.row, field="email", message=str(error)))
            return False
        return bool(customer.pending_events)

    async def _dry_run(
        self, job: ImportJob, item: _Row, holders: dict[ContactKey, str], claims: DryRunClaims
    ) -> RowOutcome:
        if item.candidate is None:
            return RowOutcome.FAILED
        holder = next((holders[key] for key in item.contact_keys if key in holders), None)
        if holder is not None:
            try:
                return await self._update(job, item, holder, metadata=_NO_METADATA)
            except _MatchAgain:
                return RowOutcome.SKIPPED if job.on_match == OnMatch.SKIP else RowOutcome.UPDATED
        if claims.keys.intersection(item.contact_keys):
            # An earlier row of the file creates it: this one would match that customer.
            return RowOutcome.SKIPPED if job.on_match == OnMatch.SKIP else RowOutcome.UPDATED
        if await self._imported_before(job, item.candidate.id):
            return RowOutcome.SKIPPED
        claims.keys.update(item.contact_keys)
        return RowOutcome.CREATED

    async def _imported_before(self, job: ImportJob, customer_id: str) -> bool:
        """Whether this very row was imported before (its customer exists): a real import would
        skip it."""
        try:
            await self._changes.load(job.business_id, customer_id)
        except CustomerNotFound:
            return False
        return True


def _waves(rows: list[_Row]) -> list[list[_Row]]:
    """The rows in waves whose rows share no email or phone: rows about one person go in file
    order (a later row updates what an earlier one created), the others all at once."""
    waves: list[list[_Row]] = []
    remaining = rows
    while remaining:
        wave: list[_Row] = []
        later: list[_Row] = []
        taken: set[ContactKey] = set()
        for item in remaining:
            keys = set(item.contact_keys)
            (later if keys & taken else wave).append(item)
            taken |= keys  # a deferred row keeps the rows after it with its keys behind it
        waves.append(wave)
        remaining = later
    return waves


class _MatchAgain(Exception):
    """The match changed under the row: look its email and phone up again."""


_NO_METADATA = EventMetadata(business_id="", actor="", correlation_id="", causation_id="")


def _row_error(row: int, item: Any) -> RowError:
    field = ".".join(str(part) for part in item.get("loc", ())) or "body"
    return RowError(row=row, field=field, message=str(item.get("msg", "invalid")))
