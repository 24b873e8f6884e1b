from typing import Any

from pydantic import BaseModel, ConfigDict

from application.commands.context import CommandContext, CommandResult
from application.commands.customer_changes import CustomerChanges
from application.ports import Clock
from domain.customer.aggregate import Customer


class UpdatePreferences(BaseModel):
    model_config = ConfigDict(frozen=True)

    business_id: str
    customer_id: str
    changes: dict[str, Any]
    expected_version: int | None = None


class SetConsent(BaseModel):
    model_config = ConfigDict(frozen=True)

    business_id: str
    customer_id: str
    purpose: str
    granted: bool
    source: str | None = None
    legal_basis: str | None = None


class UpdatePreferencesHandler:
    def __init__(self, changes: CustomerChanges, clock: Clock):
        self._changes = changes
        self._clock = clock

    async def execute(self, command: UpdatePreferences, context: CommandContext) -> CommandResult:
        def decide(customer: Customer) -> None:
            customer.update_preferences(command.changes, self._clock.now())

        return await self._changes.change(
            command.business_id, [command.customer_id], decide, context, command.expected_version
        )


class SetConsentHandler:
    def __init__(self, changes: CustomerChanges, clock: Clock):
        self._changes = changes
        self._clock = clock

    async def execute(self, command: SetConsent, context: CommandContext) -> CommandResult:
        def decide(customer: Customer) -> None:
            customer.record_consent(
                command.purpose, command.granted, command.source, command.legal_basis, self._clock.now()
            )

        return await self._changes.change(command.business_id, [command.customer_id], decide, context)
