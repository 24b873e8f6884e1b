from pydantic import BaseModel, ConfigDict

from application.commands.context import CommandContext, CommandResult
from application.commands.customer_changes import CustomerChanges
from application.ports import Clock, IdGenerator
from domain.customer.aggregate import Customer
from domain.customer.notes import Note, NoteType


class AddNote(BaseModel):
    model_config = ConfigDict(frozen=True)

    business_id: str
    customer_id: str
    type: NoteType
    content: str


class AddNoteHandler:
    def __init__(self, changes: CustomerChanges, ids: IdGenerator, clock: Clock):
        self._changes = changes
        self._ids = ids
        self._clock = clock

    async def execute(self, command: AddNote, context: CommandContext) -> CommandResult:
        note_id = self._ids.new_note_id()

        def decide(customer: Customer) -> Note:
            # The author is whoever sends the command, never a field of the request.
            return customer.add_note(note_id, command.type, command.content, context.actor, self._clock.now())

        return await self._changes.change(command.business_id, [command.customer_id], decide, context)
