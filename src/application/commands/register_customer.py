from pydantic import BaseModel, ConfigDict

from application.commands.context import CommandContext, CommandResult
from application.commands.customer_changes import CustomerChanges
from application.phone_regions import PhoneRegions
from application.ports import Clock, IdGenerator
from domain.customer.aggregate import Customer, ProfileInput


class RegisterCustomer(BaseModel):
    model_config = ConfigDict(frozen=True)

    business_id: str
    profile: ProfileInput


class RegisterCustomerHandler:
    def __init__(self, changes: CustomerChanges, ids: IdGenerator, clock: Clock, regions: PhoneRegions):
        self._changes = changes
        self._ids = ids
        self._clock = clock
        self._regions = regions

    async def execute(self, command: RegisterCustomer, context: CommandContext) -> CommandResult:
        return await self._changes.create(
            command.business_id,
            lambda: Customer.register(
                customer_id=self._ids.new_customer_id(),
                business_id=command.business_id,
                profile=command.profile,
                default_region=self._regions.region_for(command.business_id),
                now=self._clock.now(),
            ),
            context,
        )
