from typing import Any

from pydantic import BaseModel, ConfigDict

from application.commands.context import CommandContext, CommandResult
from application.commands.customer_changes import CustomerChanges
from application.phone_regions import PhoneRegions
from application.ports import Clock
from domain.customer.aggregate import Customer


class UpdateCustomer(BaseModel):
    """PATCH: only the given fields change; a null clears one."""

    model_config = ConfigDict(frozen=True)

    business_id: str
    customer_id: str
    changes: dict[str, Any]
    expected_version: int | None = None


class UpdateCustomerHandler:
    def __init__(self, changes: CustomerChanges, clock: Clock, regions: PhoneRegions):
        self._changes = changes
        self._clock = clock
        self._regions = regions

    async def execute(self, command: UpdateCustomer, context: CommandContext) -> CommandResult:
        def decide(customer: Customer) -> None:
            customer.update_profile(command.changes, self._regions.region_for(command.business_id), self._clock.now())

        return await self._changes.change(
            command.business_id, [command.customer_id], decide, context, command.expected_version
        )
