from pydantic import BaseModel, ConfigDict

from application.commands.context import CommandContext, CommandResult
from application.commands.customer_changes import CustomerChanges
from application.ports import Clock
from domain.customer.aggregate import Customer


class EraseCustomer(BaseModel):
    """GDPR erasure: the data key is destroyed with the `CustomerErased` event, in one commit."""

    model_config = ConfigDict(frozen=True)

    business_id: str
    customer_id: str


class EraseCustomerHandler:
    def __init__(self, changes: CustomerChanges, clock: Clock):
        self._changes = changes
        self._clock = clock

    async def execute(self, command: EraseCustomer, context: CommandContext) -> CommandResult:
        def decide(customer: Customer) -> None:
            customer.erase(self._clock.now())

        return await self._changes.change(command.business_id, [command.customer_id], decide, context)
