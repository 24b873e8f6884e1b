"""One trace follows a change across the processes: the request (continuing the client's
`traceparent`), the MongoDB commands of the append, the relay's publish (whose message
carries the trace in its headers), and the projection that applied it."""

import asyncio

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from infrastructure.observability.tracing import instrument_drivers
from tests.conftest import serve_api
from tests.tokens import bearer

pytestmark = pytest.mark.integration
CLIENT_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = f"00-{CLIENT_TRACE}-00f067aa0ba902b7-01"


@pytest.fixture
def spans():
    """Spans of this test, in memory. The provider is global and can be set once per
    process: later tests keep it, with this exporter shut (it then keeps nothing)."""
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        provider = TracerProvider()
        trace.set_tracer_provider(provider)
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    instrument_drivers()
    yield exporter
    exporter.shutdown()
    from opentelemetry.instrumentation.aio_pika import AioPikaInstrumentor
    from opentelemetry.instrumentation.pymongo import PymongoInstrumentor
    from opentelemetry.instrumentation.redis import RedisInstrumentor

    for instrumentor in (PymongoInstrumentor(), RedisInstrumentor(), AioPikaInstrumentor()):
        instrumentor.uninstrument()


async def test_a_registration_is_one_trace_from_the_request_to_the_projection(spans, settings, container, workers):
    headers = {**bearer(settings), "traceparent": TRACEPARENT}
    # An API with tracing on (its exporter is this test's, set above).
    async with serve_api(settings.model_copy(update={"otel_exporter": "console"})) as api:
        response = await api.post(
            "/api/v1/businesses/biz_1/customers",
            json={"first_name": "Ana", "last_name": "Silva", "email": "ana.trace@example.com"},
            headers=headers,
        )
    assert response.status_code == 201, response.text
    customer_id = response.json()["id"]

    recorded = await container.event_store().load_stream("biz_1", customer_id)
    assert recorded[0].metadata.traceparent is not None
    assert recorded[0].metadata.traceparent.split("-")[1] == CLIENT_TRACE

    def in_the_trace(name_start: str) -> list:
        return [
            span
            for span in spans.get_finished_spans()
            if span.name.startswith(name_start) and format(span.context.trace_id, "032x") == CLIENT_TRACE
        ]

    for _ in range(300):  # until every projection has applied the event (each in its own batch)
        if len(in_the_trace("projected ")) >= 3:
            break
        await asyncio.sleep(0.05)

    request = in_the_trace("POST /api/v1/businesses/{business_id}/customers")
    assert len(request) == 1 and request[0].attributes["crm.correlation_id"]
    names = {span.name for span in spans.get_finished_spans() if format(span.context.trace_id, "032x") == CLIENT_TRACE}
    # The append's MongoDB commands (the PyMongo instrumentation), in its transaction.
    assert {f"{settings.mongodb_database}.insert", "admin.commitTransaction"} <= names, sorted(names)
    # The delivery of the message, traced by the aio-pika instrumentation from its headers.
    assert any(name.endswith("customers receive") for name in names), sorted(names)
    published = in_the_trace("publish customer.registered")
    assert len(published) == 1
    assert {span.name for span in in_the_trace("projected ")} >= {
        "projected customer_details customer.registered",
        "projected customer_history customer.registered",
    }
    # Each projection's span links to the batch span that applied the event.
    batches = {span.context.span_id for span in spans.get_finished_spans() if span.name.startswith("project ")}
    for span in in_the_trace("projected "):
        assert {link.context.span_id for link in span.links} <= batches and span.links


async def test_the_events_an_order_causes_continue_the_senders_trace(container, workers):
    from tests.inbound import BUSINESS, Publisher, envelope, holder_of, order_placed, wait_until_processed

    traced = envelope("order.placed", order_placed("ord_traced"))
    untraced = envelope(
        "order.placed",
        order_placed("ord_untraced", booker={"email": "bea.trace@example.com", "first_name": "Bea"}, attendees=[]),
    )
    async with Publisher(container) as publisher:
        await publisher.publish(traced, headers={"traceparent": TRACEPARENT})
        await publisher.publish(untraced, headers={"traceparent": "00-not-a-trace-01"})
    await wait_until_processed(container, traced["event_id"], untraced["event_id"])

    ana = await holder_of(container, "email", "ana.silva@example.com")
    bea = await holder_of(container, "email", "bea.trace@example.com")
    assert ana and bea
    ana_events = await container.event_store().load_stream(BUSINESS, ana)
    bea_events = await container.event_store().load_stream(BUSINESS, bea)
    assert {event.metadata.traceparent for event in ana_events} == {TRACEPARENT}
    # A header that is not W3C trace context is ignored; the message is handled all the same.
    assert {event.metadata.traceparent for event in bea_events} == {None}


def test_the_request_tracing_middleware_is_there_only_with_an_exporter(settings):
    from dependency_injector import providers
    from litestar.plugins.opentelemetry import OpenTelemetryPlugin

    from infrastructure.container import Container
    from interfaces.http.app import create_app

    def traced(exporter: str) -> bool:
        container = Container()
        container.settings.override(providers.Object(settings.model_copy(update={"otel_exporter": exporter})))
        return any(isinstance(plugin, OpenTelemetryPlugin) for plugin in create_app(container).plugins)

    assert (traced(""), traced("console")) == (False, True)
