from pydantic import BaseModel, ConfigDict

from application.commands.context import CommandContext, CommandResult
from application.ports import Clock, EventStore, IdGenerator
from domain.customer.aggregate import Customer, ProfileInput


class RegisterCustomer(BaseModel):
    model_config = ConfigDict(frozen=True)

    business_id: str
    profile: ProfileInput


class RegisterCustomerHandler:
    def __init__(self, event_store: EventStore, ids: IdGenerator, clock: Clock, default_region: str):
        self._event_store = event_store
        self._ids = ids
        self._clock = clock
        self._default_region = default_region

    async def execute(self, command: RegisterCustomer, context: CommandContext) -> CommandResult:
        customer = Customer.register(
            customer_id=self._ids.new_customer_id(),
            business_id=command.business_id,
            profile=command.profile,
            default_region=self._default_region,
            now=self._clock.now(),
        )
        position = await self._event_store.append(
            customer.id,
            expected_version=0,
            events=customer.pending_events,
            metadata=context.metadata_for(command.business_id),
        )
        return CommandResult(customer=customer.state, position=position)
