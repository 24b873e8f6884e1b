"""Customer routes: parse, build a command or query, call its handler, map the result."""

from litestar import Controller, Request, Response, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody

from application.commands.context import CommandContext, CommandResult
from application.commands.register_customer import RegisterCustomer, RegisterCustomerHandler
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
