"""Customer command routes (and the read of one customer): parse, build a command or
query, call its handler, map the result. No business rule lives here."""

from typing import Annotated, Any

from litestar import Controller, Request, Response, delete, get, patch, post, put
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody, Parameter

from application.commands.add_note import AddNote, AddNoteHandler
from application.commands.context import CommandContext, CommandResult
from application.commands.erase_customer import EraseCustomer, EraseCustomerHandler
from application.commands.lifecycle import DeleteCustomer, DeleteCustomerHandler, RestoreCustomer, RestoreCustomerHandler
from application.commands.merge_customers import MergeCustomers, MergeCustomersHandler
from application.commands.preferences_and_consents import (
    SetConsent,
    SetConsentHandler,
    UpdatePreferences,
    UpdatePreferencesHandler,
)
from application.commands.register_customer import RegisterCustomer, RegisterCustomerHandler
from application.commands.replace_customer import ReplaceCustomer, ReplaceCustomerHandler
from application.commands.update_customer import UpdateCustomer, UpdateCustomerHandler
from application.queries.export_customer import ExportCustomer, ExportCustomerHandler
from application.queries.reader import Reader
from interfaces.http.problems import COMMAND, CONDITIONAL_COMMAND, NO_CONTENT, READ
from interfaces.http.auth import requires_role, tenant_guard
from interfaces.http.customer_activity import CustomerActivityRoutes
from interfaces.http.command_context import command_context, expected_version, reader
from interfaces.http.schemas import (
    PURPOSE,
    ConsentBody,
    CustomerPatchBody,
    CustomerProfileBody,
    CustomerResource,
    MergeBody,
    NoteBody,
    NoteResource,
    PreferencesPatchBody,
)

BUSINESS_PATH = "/api/v1/businesses/{business_id:str}/customers"
CustomerId = Annotated[str, Parameter(max_length=64)]


def _customer_response(status: int, result: CommandResult, location: str | None = None) -> Response[CustomerResource]:
    resource = CustomerResource.from_state(result.customer)
    headers = {"ETag": f'"{resource.version}"'}
    if result.position is not None:
        headers["X-Position"] = str(result.position)
    if location:
        headers["Location"] = location
    return Response(content=resource, status_code=status, headers=headers)


class CustomerController(Controller, CustomerActivityRoutes):
    path = BUSINESS_PATH
    tags = ["customers"]
    guards = [tenant_guard]
    dependencies = {
        "context": Provide(command_context),
        "if_match": Provide(expected_version, sync_to_thread=False),
        "reader": Provide(reader, sync_to_thread=False),
    }

    @post("/", responses=COMMAND, guards=[requires_role("staff")], summary="Register a customer", operation_id="registerCustomer",
          description="At least one of first_name, last_name, email or phone. `409` with `existing_customer_id` "
          "when the email or phone belongs to an active customer. Honours `Idempotency-Key`.")
    async def register(
        self, request: Request, business_id: FromPath[str], data: JSONBody[CustomerProfileBody],
        context: NamedDependency[CommandContext], register_customer: NamedDependency[RegisterCustomerHandler],
    ) -> Response[CustomerResource]:
        result = await register_customer.execute(RegisterCustomer(business_id=business_id, profile=data), context)
        return _customer_response(201, result, f"{request.url.path.rstrip('/')}/{result.customer.id}")

    @patch("/{customer_id:str}", responses=CONDITIONAL_COMMAND, guards=[requires_role("staff")], summary="Update part of a profile",
           operation_id="updateCustomer", description='Fields sent change; null clears one; `attributes` is merged. '
           '`If-Match: "<version>"` makes it conditional (`412` when stale).')
    async def update(
        self, business_id: FromPath[str], customer_id: FromPath[CustomerId], data: JSONBody[CustomerPatchBody],
        context: NamedDependency[CommandContext], if_match: NamedDependency[int | None],
        update_customer: NamedDependency[UpdateCustomerHandler],
    ) -> Response[CustomerResource]:
        command = UpdateCustomer(business_id=business_id, customer_id=customer_id, changes=data.changes(),
                                 expected_version=if_match)
        return _customer_response(200, await update_customer.execute(command, context))

    @put("/{customer_id:str}", responses=CONDITIONAL_COMMAND, guards=[requires_role("staff")], summary="Replace the editable profile",
         operation_id="replaceCustomer")
    async def replace(
        self, business_id: FromPath[str], customer_id: FromPath[CustomerId], data: JSONBody[CustomerProfileBody],
        context: NamedDependency[CommandContext], if_match: NamedDependency[int | None],
        replace_customer: NamedDependency[ReplaceCustomerHandler],
    ) -> Response[CustomerResource]:
        command = ReplaceCustomer(business_id=business_id, customer_id=customer_id, profile=data,
                                  expected_version=if_match)
        return _customer_response(200, await replace_customer.execute(command, context))

    @delete("/{customer_id:str}", responses={**CONDITIONAL_COMMAND, 204: NO_CONTENT}, guards=[requires_role("manager")], summary="Soft-delete a customer",
            operation_id="deleteCustomer", description="`409` while the customer has open orders.", status_code=204)
    async def delete_customer(
        self, business_id: FromPath[str], customer_id: FromPath[CustomerId],
        context: NamedDependency[CommandContext], if_match: NamedDependency[int | None],
        delete_customer: NamedDependency[DeleteCustomerHandler],
    ) -> Response[None]:
        command = DeleteCustomer(business_id=business_id, customer_id=customer_id, expected_version=if_match)
        result = await delete_customer.execute(command, context)
        headers = {"ETag": f'"{result.customer.version}"'}
        if result.position is not None:
            headers["X-Position"] = str(result.position)
        return Response(content=None, status_code=204, headers=headers)

    @post("/{customer_id:str}/restore", responses=CONDITIONAL_COMMAND, guards=[requires_role("manager")], summary="Restore a deleted customer",
          operation_id="restoreCustomer", status_code=200)
    async def restore(
        self, business_id: FromPath[str], customer_id: FromPath[CustomerId],
        context: NamedDependency[CommandContext], if_match: NamedDependency[int | None],
        restore_customer: NamedDependency[RestoreCustomerHandler],
    ) -> Response[CustomerResource]:
        command = RestoreCustomer(business_id=business_id, customer_id=customer_id, expected_version=if_match)
        return _customer_response(200, await restore_customer.execute(command, context))

    @post("/{customer_id:str}/notes", responses=COMMAND, guards=[requires_role("staff")], summary="Add a note",
          operation_id="addNote", description="The author is the token's user.")
    async def add_note(
        self, request: Request, business_id: FromPath[str], customer_id: FromPath[CustomerId],
        data: JSONBody[NoteBody], context: NamedDependency[CommandContext], add_note: NamedDependency[AddNoteHandler],
    ) -> Response[NoteResource]:
        result = await add_note.execute(
            AddNote(business_id=business_id, customer_id=customer_id, type=data.type, content=data.content), context
        )
        assert result.note is not None
        headers = {"ETag": f'"{result.customer.version}"', "Location": f"{request.url.path}/{result.note.id}"}
        if result.position is not None:
            headers["X-Position"] = str(result.position)
        return Response(NoteResource(**result.note.model_dump(), customer_id=customer_id), status_code=201,
                        headers=headers)

    @patch("/{customer_id:str}/preferences", responses=CONDITIONAL_COMMAND, guards=[requires_role("staff")], summary="Update preferences",
           operation_id="updatePreferences")
    async def update_preferences(
        self, business_id: FromPath[str], customer_id: FromPath[CustomerId], data: JSONBody[PreferencesPatchBody],
        context: NamedDependency[CommandContext], if_match: NamedDependency[int | None],
        update_preferences: NamedDependency[UpdatePreferencesHandler],
    ) -> Response[CustomerResource]:
        command = UpdatePreferences(business_id=business_id, customer_id=customer_id, changes=data.changes(),
                                    expected_version=if_match)
        return _customer_response(200, await update_preferences.execute(command, context))

    @put("/{customer_id:str}/consents/{purpose:str}", responses=COMMAND, guards=[requires_role("staff")],
         summary="Grant or withdraw a consent", operation_id="setConsent",
         description="Each call adds to the consent log; the customer shows the latest value per purpose.")
    async def set_consent(
        self, business_id: FromPath[str], customer_id: FromPath[CustomerId],
        purpose: FromPath[Annotated[str, Parameter(pattern=PURPOSE)]], data: JSONBody[ConsentBody],
        context: NamedDependency[CommandContext], set_consent: NamedDependency[SetConsentHandler],
    ) -> Response[CustomerResource]:
        command = SetConsent(business_id=business_id, customer_id=customer_id, purpose=purpose, granted=data.granted,
                             source=data.source, legal_basis=data.legal_basis)
        return _customer_response(200, await set_consent.execute(command, context))

    @post("/{customer_id:str}/merge", responses=CONDITIONAL_COMMAND, guards=[requires_role("manager")], summary="Merge another customer into this one",
          operation_id="mergeCustomers", status_code=200,
          description="The source becomes `merged` into this customer, which takes its missing contact data, "
          "notes and consents.")
    async def merge(
        self, business_id: FromPath[str], customer_id: FromPath[CustomerId], data: JSONBody[MergeBody],
        context: NamedDependency[CommandContext], if_match: NamedDependency[int | None],
        merge_customers: NamedDependency[MergeCustomersHandler],
    ) -> Response[CustomerResource]:
        command = MergeCustomers(business_id=business_id, target_customer_id=customer_id,
                                 source_customer_id=data.source_customer_id, expected_version=if_match)
        return _customer_response(200, await merge_customers.execute(command, context))

    @post("/{customer_id:str}/erase", responses=COMMAND, guards=[requires_role("admin")], summary="Erase a customer (GDPR)",
          operation_id="eraseCustomer", status_code=200,
          description="Personal data gone for good: the customer's data key is destroyed (crypto-shredding), "
          "the read models drop it, its email and phone are released. Ids and money facts stay.")
    async def erase(
        self, business_id: FromPath[str], customer_id: FromPath[CustomerId],
        context: NamedDependency[CommandContext], erase_customer: NamedDependency[EraseCustomerHandler],
    ) -> Response[CustomerResource]:
        result = await erase_customer.execute(EraseCustomer(business_id=business_id, customer_id=customer_id), context)
        return _customer_response(200, result)

    @get("/{customer_id:str}/export", responses=READ, guards=[requires_role("manager")], summary="Export a customer (GDPR)",
         operation_id="exportCustomer", description="Everything held about the person: profile, notes, consent "
         "log, purchases, history and the access log about them. The export itself is logged.")
    async def export(
        self, business_id: FromPath[str], customer_id: FromPath[CustomerId], reader: NamedDependency[Reader],
        export_customer: NamedDependency[ExportCustomerHandler],
    ) -> dict[str, Any]:
        return await export_customer.execute(ExportCustomer(business_id=business_id, customer_id=customer_id), reader)
