from datetime import datetime

from pydantic import BaseModel, ConfigDict

from application.ports import AccessLog, AccessRecord


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
