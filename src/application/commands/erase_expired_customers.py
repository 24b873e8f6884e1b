"""Retention: erases the customers soft-deleted for longer than the retention period."""

import uuid
from collections.abc import Callable
from datetime import timedelta

import structlog
from pydantic import BaseModel, ConfigDict

from application.commands.context import CommandContext
from application.commands.erase_customer import EraseCustomer, EraseCustomerHandler
from application.errors import ApplicationError
from application.ports import Clock, CustomerViewStore
from domain.errors import DomainError

RETENTION_ACTOR = "system:retention"
BATCH = 200

log = structlog.get_logger(__name__)


class EraseExpiredCustomers(BaseModel):
    model_config = ConfigDict(frozen=True)

    retention_days: int
    dry_run: bool = False


class RetentionReport(BaseModel):
    cutoff: str
    erased: list[str] = []
    would_erase: list[str] = []
    failed: dict[str, str] = {}


class EraseExpiredCustomersHandler:
    def __init__(self, views: CustomerViewStore, erase: EraseCustomerHandler, clock: Clock):
        self._views = views
        self._erase = erase
        self._clock = clock

    async def execute(
        self, command: EraseExpiredCustomers, on_progress: Callable[[int], None] | None = None
    ) -> RetentionReport:
        cutoff = self._clock.now() - timedelta(days=command.retention_days)
        report = RetentionReport(cutoff=cutoff.isoformat())
        run = uuid.uuid4().hex
        seen: set[str] = set()
        while True:
            due = [
                (business, customer)
                for business, customer in await self._views.deleted_before(cutoff, BATCH)
                if customer not in seen
            ]
            if not due:
                return report
            for business_id, customer_id in due:
                seen.add(customer_id)
                if command.dry_run:
                    report.would_erase.append(customer_id)
                    continue
                context = CommandContext(
                    actor=RETENTION_ACTOR,
                    correlation_id=f"retention:{run}",
                    causation_id=f"retention:{run}:{customer_id}",
                )
                try:
                    await self._erase.execute(EraseCustomer(business_id=business_id, customer_id=customer_id), context)
                    report.erased.append(customer_id)
                except (DomainError, ApplicationError) as error:
                    # One customer that can't be erased must not stop the others.
                    report.failed[customer_id] = str(error)
                    log.warning("retention could not erase %s: %s", customer_id, error)
                if on_progress is not None:
                    on_progress(len(report.erased) + len(report.failed))
