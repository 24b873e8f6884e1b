"""Soft delete and restore."""

from pydantic import BaseModel, ConfigDict

from application.commands.context import CommandContext, CommandResult
from application.commands.customer_changes import CustomerChanges
from application.ports import Clock
from domain.customer.aggregate import Customer


class DeleteCustomer(BaseModel):
    model_config = ConfigDict(frozen=True)

    business_id: str
    customer_id: str
    expected_version: int | None = None


class RestoreCustomer(BaseModel):
    model_config = ConfigDict(frozen=True)

    business_id: str
    customer_id: str
    expected_version: int | None = None


class DeleteCustomerHandler:
    def __init__(self, changes: CustomerChanges, clock: Clock):
        self._changes = changes
        self._clock = clock

    async def execute(self, command: DeleteCustomer, context: CommandContext) -> CommandResult:
        def decide(customer: Customer) -> None:
            customer.delete(self._clock.now())

        return await self._changes.change(
            command.business_id, [command.customer_id], decide, context, command.expected_version
        )


class RestoreCustomerHandler:
    def __init__(self, changes: CustomerChanges, clock: Clock):
        self._changes = changes
        self._clock = clock

    async def execute(self, command: RestoreCustomer, context: CommandContext) -> CommandResult:
        def decide(customer: Customer) -> None:
            customer.restore(self._clock.now())

        return await self._changes.change(
            command.business_id, [command.customer_id], decide, context, command.expected_version
        )
