"""Customer routes: parse, build a command or query, call its handler, map the result."""

from typing import Annotated

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody, Parameter

from application.commands.context import CommandContext, CommandResult
from application.commands.register_customer import RegisterCustomer, RegisterCustomerHandler
from application.queries.get_customer import GetCustomer, GetCustomerHandler
from interfaces.http.auth import tenant_guard, requires_role
from interfaces.http.correlation import command_context
from interfaces.http.schemas import CustomerProfileBody, CustomerResource

BUSINESS_PATH = "/api/v1/businesses/{business_id:str}/customers"


def _customer_response(result_status: int, resource: CustomerResource, headers: dict[str, str]) -> Response:
    return Response(content=resource, status_code=result_status, headers={"ETag": f'"{resource.version}"', **headers})


def _command_response(request: Request, status: int, result: CommandResult) -> Response[CustomerResource]:
    resource = CustomerResource.from_state(result.customer)
    return _customer_response(
        status,
        resource,
        {"Location": f"{request.url.path.rstrip('/')}/{resource.id}" if status == 201 else request.url.path,
         "X-Position": str(result.position)},
    )


class CustomerController(Controller):
    path = BUSINESS_PATH
    tags = ["customers"]
    guards = [tenant_guard]
    dependencies = {"context": Provide(command_context, sync_to_thread=False)}

    @post(
        "/",
        guards=[requires_role("staff")],
        summary="Register a customer",
        operation_id="registerCustomer",
        description="At least one of first_name, last_name, email or phone. Answers with the customer as of "
        "the command, its `ETag` version and the `X-Position` of its event in the global log.",
    )
    async def register(
        self,
        request: Request,
        business_id: FromPath[str],
        data: JSONBody[CustomerProfileBody],
        context: NamedDependency[CommandContext],
        register_customer: NamedDependency[RegisterCustomerHandler],
    ) -> Response[CustomerResource]:
        result = await register_customer.execute(RegisterCustomer(business_id=business_id, profile=data), context)
        return _command_response(request, 201, result)

    @get(
        "/{customer_id:str}",
        guards=[requires_role("viewer")],
        summary="Read a customer",
        operation_id="getCustomer",
        description="Served from the read model. `min_version=N` waits (about 2 s at most) until the read "
        "model has reached version N, so that a client reads its own write.",
    )
    async def get_customer(
        self,
        business_id: FromPath[str],
        customer_id: FromPath[str],
        get_customer: NamedDependency[GetCustomerHandler],
        min_version: Annotated[int | None, Parameter(ge=1, le=2**31, required=False)] = None,
    ) -> Response[CustomerResource]:
        state = await get_customer.execute(
            GetCustomer(business_id=business_id, customer_id=customer_id, min_version=min_version)
        )
        return _customer_response(200, CustomerResource.from_state(state), {})
