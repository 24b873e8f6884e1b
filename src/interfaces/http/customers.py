"""One customer: read it, change it (profile, preferences, consents), delete, restore,
merge, erase and export it. Parse, build a command or query, call its handler, map the
result; no business rule lives here."""

from datetime import datetime
from typing import Annotated, Any

from litestar import Response, delete, get, patch, post, put
from litestar.di import NamedDependency
from litestar.exceptions import ValidationException
from litestar.params import FromPath, JSONBody, Parameter

from application.commands.context import CommandContext
from application.commands.erase_customer import EraseCustomer, EraseCustomerHandler
from application.commands.lifecycle import (
    DeleteCustomer,
    DeleteCustomerHandler,
    RestoreCustomer,
    RestoreCustomerHandler,
)
from application.commands.merge_customers import MergeCustomers, MergeCustomersHandler
from application.commands.preferences_and_consents import (
    SetConsent,
    SetConsentHandler,
    UpdatePreferences,
    UpdatePreferencesHandler,
)
from application.commands.replace_customer import ReplaceCustomer, ReplaceCustomerHandler
from application.commands.update_customer import UpdateCustomer, UpdateCustomerHandler
from application.queries.customer_as_of import GetCustomerAsOf, GetCustomerAsOfHandler
from application.queries.export_customer import ExportCustomer, ExportCustomerHandler
from application.queries.get_customer import GetCustomer, GetCustomerHandler
from application.queries.reader import Reader
from domain.customer.consents import KNOWN_PURPOSES
from interfaces.http.auth import requires_role, tenant_guard
from interfaces.http.command_responses import command_response, customer_response, etag
from interfaces.http.customer_collection import CUSTOMERS_PATH
from interfaces.http.dependencies import COMMAND_CONTEXT, IF_MATCH, READER, from_container
from interfaces.http.problems import COMMAND, CONDITIONAL_COMMAND, NO_CONTENT, READ, READ_WITH_WAIT
from interfaces.http.query_moments import moment, moment_parameter
from interfaces.http.resource_controller import ResourceController
from interfaces.http.schemas import (
    PURPOSE,
    ConsentBody,
    CustomerPatchBody,
    CustomerProfileBody,
    CustomerResource,
    MergeBody,
    PreferencesPatchBody,
)

CUSTOMER_PATH = f"{CUSTOMERS_PATH}/{{customer_id:str}}"
CustomerId = Annotated[str, Parameter(max_length=64)]


class CustomerController(ResourceController):
    path = CUSTOMER_PATH
    tags = ["customers"]
    guards = [tenant_guard]
    dependencies = {
        **COMMAND_CONTEXT,
        **IF_MATCH,
        **READER,
        **from_container(
            "get_customer",
            "get_customer_as_of",
            "update_customer",
            "replace_customer",
            "delete_customer",
            "restore_customer",
            "update_preferences",
            "set_consent",
            "merge_customers",
            "erase_customer",
            "export_customer",
        ),
    }

    @get(
        "/",
        responses=READ_WITH_WAIT,
        guards=[requires_role("viewer")],
        summary="Read a customer",
        operation_id="getCustomer",
        description="Served from the cache when warm, else from the read model. `min_version=N` waits (about "
        "2 s at most) until the read model has reached version N, so that a client reads its own write. "
        "`as_of=<RFC 3339>` answers the customer exactly as it was at that moment, rebuilt from its events "
        "(`404` if it did not exist yet; erased personal data stays erased in the past); it cannot be "
        "combined with `min_version`.",
    )
    async def get_customer(
        self,
        business_id: FromPath[str],
        customer_id: FromPath[str],
        get_customer: NamedDependency[GetCustomerHandler],
        get_customer_as_of: NamedDependency[GetCustomerAsOfHandler],
        reader: NamedDependency[Reader],
        min_version: Annotated[int | None, Parameter(ge=1, le=2**31, required=False)] = None,
        as_of: Annotated[str | None, moment_parameter("time travel")] = None,
    ) -> Response[CustomerResource]:
        if as_of is not None:
            state = await get_customer_as_of.execute(
                GetCustomerAsOf(business_id=business_id, customer_id=customer_id, as_of=_moment(as_of, min_version)),
                reader,
            )
            return Response(content=CustomerResource.from_state(state), headers={"ETag": etag(state.version)})
        state = await get_customer.execute(
            GetCustomer(business_id=business_id, customer_id=customer_id, min_version=min_version), reader
        )
        return Response(content=CustomerResource.from_state(state), headers={"ETag": etag(state.version)})

    @patch(
        "/",
        responses=CONDITIONAL_COMMAND,
        guards=[requires_role("staff")],
        summary="Update part of a profile",
        operation_id="updateCustomer",
        description="Fields sent change; null clears one; `attributes` is merged. "
        '`If-Match: "<version>"` makes it conditional (`412` when stale).',
    )
    async def update(
        self,
        business_id: FromPath[str],
        customer_id: FromPath[CustomerId],
        data: JSONBody[CustomerPatchBody],
        context: NamedDependency[CommandContext],
        if_match: NamedDependency[int | None],
        update_customer: NamedDependency[UpdateCustomerHandler],
    ) -> Response[CustomerResource]:
        command = UpdateCustomer(
            business_id=business_id, customer_id=customer_id, changes=data.changes(), expected_version=if_match
        )
        return customer_response(await update_customer.execute(command, context))

    @put(
        "/",
        responses=CONDITIONAL_COMMAND,
        guards=[requires_role("staff")],
        summary="Replace the editable profile",
        operation_id="replaceCustomer",
    )
    async def replace(
        self,
        business_id: FromPath[str],
        customer_id: FromPath[CustomerId],
        data: JSONBody[CustomerProfileBody],
        context: NamedDependency[CommandContext],
        if_match: NamedDependency[int | None],
        replace_customer: NamedDependency[ReplaceCustomerHandler],
    ) -> Response[CustomerResource]:
        command = ReplaceCustomer(
            business_id=business_id, customer_id=customer_id, profile=data, expected_version=if_match
        )
        return customer_response(await replace_customer.execute(command, context))

    @delete(
        "/",
        responses={**CONDITIONAL_COMMAND, 204: NO_CONTENT},
        guards=[requires_role("manager")],
        summary="Soft-delete a customer",
        operation_id="deleteCustomer",
        description="`409` while the customer has open orders.",
        status_code=204,
    )
    async def delete_customer(
        self,
        business_id: FromPath[str],
        customer_id: FromPath[CustomerId],
        context: NamedDependency[CommandContext],
        if_match: NamedDependency[int | None],
        delete_customer: NamedDependency[DeleteCustomerHandler],
    ) -> Response[None]:
        command = DeleteCustomer(business_id=business_id, customer_id=customer_id, expected_version=if_match)
        return command_response(await delete_customer.execute(command, context), None, 204)

    @post(
        "/restore",
        responses=CONDITIONAL_COMMAND,
        guards=[requires_role("manager")],
        summary="Restore a deleted customer",
        operation_id="restoreCustomer",
        status_code=200,
    )
    async def restore(
        self,
        business_id: FromPath[str],
        customer_id: FromPath[CustomerId],
        context: NamedDependency[CommandContext],
        if_match: NamedDependency[int | None],
        restore_customer: NamedDependency[RestoreCustomerHandler],
    ) -> Response[CustomerResource]:
        command = RestoreCustomer(business_id=business_id, customer_id=customer_id, expected_version=if_match)
        return customer_response(await restore_customer.execute(command, context))

    @patch(
        "/preferences",
        responses=CONDITIONAL_COMMAND,
        guards=[requires_role("staff")],
        summary="Update preferences",
        operation_id="updatePreferences",
    )
    async def update_preferences(
        self,
        business_id: FromPath[str],
        customer_id: FromPath[CustomerId],
        data: JSONBody[PreferencesPatchBody],
        context: NamedDependency[CommandContext],
        if_match: NamedDependency[int | None],
        update_preferences: NamedDependency[UpdatePreferencesHandler],
    ) -> Response[CustomerResource]:
        command = UpdatePreferences(
            business_id=business_id, customer_id=customer_id, changes=data.changes(), expected_version=if_match
        )
        return customer_response(await update_preferences.execute(command, context))

    @put(
        "/consents/{purpose:str}",
        responses=COMMAND,
        guards=[requires_role("staff")],
        summary="Grant or withdraw a consent",
        operation_id="setConsent",
        description="Each call adds to the consent log; the customer shows the latest value per purpose. "
        f"Purposes include {', '.join(f'`{purpose}`' for purpose in KNOWN_PURPOSES)}; any other matching "
        f"`{PURPOSE}` is accepted (`422` otherwise).",
    )
    async def set_consent(
        self,
        business_id: FromPath[str],
        customer_id: FromPath[CustomerId],
        purpose: FromPath[Annotated[str, Parameter(pattern=PURPOSE)]],
        data: JSONBody[ConsentBody],
        context: NamedDependency[CommandContext],
        set_consent: NamedDependency[SetConsentHandler],
    ) -> Response[CustomerResource]:
        command = SetConsent(
            business_id=business_id,
            customer_id=customer_id,
            purpose=purpose,
            granted=data.granted,
            source=data.source,
            legal_basis=data.legal_basis,
        )
        return customer_response(await set_consent.execute(command, context))

    @post(
        "/merge",
        responses=CONDITIONAL_COMMAND,
        guards=[requires_role("manager")],
        summary="Merge another customer into this one",
        operation_id="mergeCustomers",
        status_code=200,
        description="The source becomes `merged` into this customer, which takes its missing contact data, "
        "notes and consents.",
    )
    async def merge(
        self,
        business_id: FromPath[str],
        customer_id: FromPath[CustomerId],
        data: JSONBody[MergeBody],
        context: NamedDependency[CommandContext],
        if_match: NamedDependency[int | None],
        merge_customers: NamedDependency[MergeCustomersHandler],
    ) -> Response[CustomerResource]:
        command = MergeCustomers(
            business_id=business_id,
            target_customer_id=customer_id,
            source_customer_id=data.source_customer_id,
            expected_version=if_match,
        )
        return customer_response(await merge_customers.execute(command, context))

    @post(
        "/erase",
        responses=COMMAND,
        guards=[requires_role("admin")],
        summary="Erase a customer (GDPR)",
        operation_id="eraseCustomer",
        status_code=200,
        description="Personal data gone for good: the customer's data key is destroyed (crypto-shredding), "
        "the read models drop it, its email and phone are released. Ids and money facts stay.",
    )
    async def erase(
        self,
        business_id: FromPath[str],
        customer_id: FromPath[CustomerId],
        context: NamedDependency[CommandContext],
        erase_customer: NamedDependency[EraseCustomerHandler],
    ) -> Response[CustomerResource]:
        result = await erase_customer.execute(EraseCustomer(business_id=business_id, customer_id=customer_id), context)
        return customer_response(result)

    @get(
        "/export",
        responses=READ,
        guards=[requires_role("manager")],
        summary="Export a customer (GDPR)",
        operation_id="exportCustomer",
        description="Everything held about the person: profile, notes, consent "
        "log, purchases, history and the access log about them. The export itself is logged.",
    )
    async def export(
        self,
        business_id: FromPath[str],
        customer_id: FromPath[CustomerId],
        reader: NamedDependency[Reader],
        export_customer: NamedDependency[ExportCustomerHandler],
    ) -> dict[str, Any]:
        return await export_customer.execute(ExportCustomer(business_id=business_id, customer_id=customer_id), reader)


def _moment(as_of: str, min_version: int | None) -> datetime:
    if min_version is not None:
        raise ValidationException(
            "as_of and min_version", extra=[{"key": "as_of", "message": "cannot be combined with min_version"}]
        )
    return moment("as_of", as_of)
