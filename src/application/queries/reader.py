from datetime import datetime

from pydantic import BaseModel, ConfigDict

from application.errors import CustomerNotFound
from application.ports import AccessLog, AccessRecord, Clock, CustomerViewStore
from domain.customer.state import CustomerState


class Reader(BaseModel):
    """Who reads: every read of personal data is written to the access log."""

    model_config = ConfigDict(frozen=True)

    actor: str
    correlation_id: str


async def record_access(
    access_log: AccessLog, reader: Reader, business_id: str, customer_ids: list[str], action: str, now: datetime
) -> None:
    if customer_ids:
        await access_log.record(
            AccessRecord(
                at=now,
                actor=reader.actor,
                business_id=business_id,
                customer_ids=tuple(customer_ids),
                action=action,
                correlation_id=reader.correlation_id,
            )
        )


class AuditedViews:
    """One customer's read model, for a reader: 404 if absent, and the access logged."""

    def __init__(self, views: CustomerViewStore, access_log: AccessLog, clock: Clock):
        self._views = views
        self._access_log = access_log
        self._clock = clock

    async def read(self, business_id: str, customer_id: str, reader: Reader, action: str) -> CustomerState:
        view = await self._views.get(business_id, customer_id)
        if view is None:
            raise CustomerNotFound(customer_id)
        await record_access(self._access_log, reader, business_id, [view.id], action, self._clock.now())
        return view
