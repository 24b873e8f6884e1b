from pydantic import BaseModel, ConfigDict

from application.commands.context import CommandContext, CommandResult
from application.commands.customer_changes import CustomerChanges
from application.errors import CustomerNotFound, InvalidReference
from application.ports import Clock
from domain.customer.aggregate import Customer
from domain.errors import InvalidMerge


class MergeCustomers(BaseModel):
    model_config = ConfigDict(frozen=True)

    business_id: str
    target_customer_id: str
    source_customer_id: str
    expected_version: int | None = None


class MergeCustomersHandler:
    def __init__(self, changes: CustomerChanges, clock: Clock):
        self._changes = changes
        self._clock = clock

    async def execute(self, command: MergeCustomers, context: CommandContext) -> CommandResult:
        if command.source_customer_id == command.target_customer_id:
            raise InvalidMerge("a customer cannot be merged into itself")
        # The target is the resource in the path: 404 if absent. The source is a field: 422.
        await self._changes.load(command.business_id, command.target_customer_id)
        try:
            await self._changes.load(command.business_id, command.source_customer_id)
        except CustomerNotFound:
            raise InvalidReference("source_customer_id", command.source_customer_id) from None

        def decide(target: Customer, source: Customer) -> None:
            target.absorb(source, self._clock.now())

        return await self._changes.change(
            command.business_id,
            [command.target_customer_id, command.source_customer_id],
            decide,
            context,
            command.expected_version,
            purchases=True,  # the source's history moves to the target
        )
