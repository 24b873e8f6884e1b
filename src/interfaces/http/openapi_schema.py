"""Makes the OpenAPI schema say what the request models enforce: a model that forbids
unknown fields gets `additionalProperties: false` (Litestar leaves it open)."""

from litestar.openapi.spec import Schema
from litestar.plugins.pydantic import PydanticSchemaPlugin


class StrictPydanticSchemaPlugin(PydanticSchemaPlugin):
    @classmethod
    def for_pydantic_model(cls, field_definition, schema_creator) -> Schema:  # type: ignore[no-untyped-def]
        schema = super().for_pydantic_model(field_definition, schema_creator)
        model = field_definition.annotation
        if getattr(model, "model_config", {}).get("extra") == "forbid":
            component = (
                schema_creator.schema_registry.from_reference(schema).schema
                if hasattr(schema, "ref") and schema.ref
                else schema
            )
            component.additional_properties = False
        return schema
