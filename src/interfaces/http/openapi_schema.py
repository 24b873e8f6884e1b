"""Makes the OpenAPI schema say what the request models enforce.

Litestar's pydantic plugin leaves two things out: a model that forbids unknown fields
gets no `additionalProperties: false`, and a `pattern` on an optional string field
(`str | None = Field(pattern=...)`) is dropped. Both are taken here from pydantic's own
JSON schema of the model, so a client generated from the schema, or a fuzzer, sends what
the service accepts.
"""

from typing import Any

from litestar.openapi.spec import Link, OpenAPI, OpenAPIResponse, Schema
from litestar.plugins.pydantic import PydanticSchemaPlugin
from pydantic import BaseModel


class StrictPydanticSchemaPlugin(PydanticSchemaPlugin):
    @classmethod
    def for_pydantic_model(cls, field_definition, schema_creator) -> Schema:  # type: ignore[no-untyped-def]
        schema = super().for_pydantic_model(field_definition, schema_creator)
        model = field_definition.annotation
        component = (
            schema_creator.schema_registry.from_reference(schema).schema
            if hasattr(schema, "ref") and schema.ref
            else schema
        )
        if getattr(model, "model_config", {}).get("extra") == "forbid":
            component.additional_properties = False
        if isinstance(model, type) and issubclass(model, BaseModel):
            _carry_patterns(model, component)
        for property_schema in (component.properties or {}).values():
            if isinstance(property_schema, Schema):
                _stated_values_win(property_schema)
        return schema


def _carry_patterns(model: type[BaseModel], component: Schema) -> None:
    """Each string field's `pattern`, from pydantic's schema, where Litestar left none."""
    stated = model.model_json_schema(mode="validation").get("properties", {})
    for name, property_schema in (component.properties or {}).items():
        pattern = _pattern_of(stated.get(name, {}))
        if pattern is not None and isinstance(property_schema, Schema) and property_schema.pattern is None:
            property_schema.pattern = pattern


def _stated_values_win(property_schema: Schema) -> None:
    """An optional map whose values a field states (`json_schema_extra`) gets them on its
    object branch too: Litestar's own `oneOf` of the value types refuses integers (an
    integer is both an `integer` and a `number`)."""
    stated = property_schema.additional_properties
    for branch in property_schema.one_of or ():
        if isinstance(branch, Schema) and branch.type == "object" and isinstance(stated, dict):
            branch.additional_properties = stated


def _pattern_of(stated: dict[str, Any]) -> str | None:
    # An optional field's constraints sit on its non-null branch.
    for branch in (stated, *stated.get("anyOf", ())):
        if isinstance(branch, dict) and "pattern" in branch:
            return branch["pattern"]
    return None


# What a registration's `id` opens: every command on the customer, and the reads that wait
# for a customer not projected yet. Stated as OpenAPI links, so that a client (or
# schemathesis's stateful phase) can go from a new customer to each of them.
CUSTOMER_OPERATIONS = (
    "getCustomer", "getMetrics", "replaceCustomer", "updateCustomer", "deleteCustomer", "restoreCustomer",
    "mergeCustomers", "setConsent", "updatePreferences", "addNote", "eraseCustomer",
)  # fmt: skip
REGISTER = ("/api/v1/businesses/{business_id}/customers", "post", "201")


def link_customer_operations(schema: OpenAPI) -> None:
    path, method, status = REGISTER
    operation = getattr((schema.paths or {}).get(path), method, None)
    response = (operation.responses or {}).get(status) if operation else None
    if not isinstance(response, OpenAPIResponse):
        return
    response.links = {
        name: Link(
            operation_id=name,
            parameters={"business_id": "$request.path.business_id", "customer_id": "$response.body#/id"},
        )
        for name in CUSTOMER_OPERATIONS
    }
