"""OpenTelemetry tracing, on when an exporter is configured (`CRM_OTEL_EXPORTER`).

Without one, the API's no-op tracer is used and spans cost nothing. `console` prints
spans (for development); `otlp` needs the `otlp` extra (`pip install 'crm[otlp]'`) and
reads the standard `OTEL_EXPORTER_OTLP_*` variables. With an exporter, the PyMongo, Redis
and aio-pika instrumentations add the drivers' spans.

One trace follows a change across processes: the API's request span (Litestar's
OpenTelemetry plugin, which also continues a client's `traceparent`) is stored as W3C
`traceparent` in the events' metadata; the relay publishes each event in a span of that
trace and sends its `traceparent` as an AMQP header; each projection records applying it
in the same trace, linked to the batch that applied it.
"""

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.propagate import extract, inject

TRACER_NAME = "crm"


def configure_tracing(exporter: str, service_name: str) -> None:
    if not exporter:
        return
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter

    span_exporter: SpanExporter
    if exporter == "console":
        span_exporter = ConsoleSpanExporter()
    elif exporter == "otlp":
        try:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        except ImportError:
            raise ValueError("CRM_OTEL_EXPORTER=otlp needs the otlp extra: pip install 'crm[otlp]'") from None
        span_exporter = OTLPSpanExporter()
    else:
        raise ValueError(f"unknown CRM_OTEL_EXPORTER {exporter!r}; use console or otlp")
    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    provider.add_span_processor(BatchSpanProcessor(span_exporter))
    trace.set_tracer_provider(provider)
    instrument_drivers()


def instrument_drivers() -> None:
    """Spans for every MongoDB command, Redis call and AMQP publish and delivery (clients
    made after this call)."""
    from opentelemetry.instrumentation.aio_pika import AioPikaInstrumentor
    from opentelemetry.instrumentation.pymongo import PymongoInstrumentor
    from opentelemetry.instrumentation.redis import RedisInstrumentor

    for instrumentor in (PymongoInstrumentor(), RedisInstrumentor(), AioPikaInstrumentor()):
        if not instrumentor.is_instrumented_by_opentelemetry:
            instrumentor.instrument()


def tracer() -> trace.Tracer:
    return trace.get_tracer(TRACER_NAME)


def current_traceparent() -> str | None:
    """The W3C `traceparent` of the current span; None when there is no trace."""
    carrier: dict[str, str] = {}
    inject(carrier)
    return carrier.get("traceparent")


def context_of(traceparent: str | None) -> Context | None:
    """The context to continue the trace a `traceparent` names (None: the current one)."""
    return extract({"traceparent": traceparent}) if traceparent else None


def inject_into(headers: dict[str, object]) -> None:
    """Adds the current trace context (`traceparent`, `tracestate`) to AMQP headers."""
    carrier: dict[str, str] = {}
    inject(carrier)
    headers.update(carrier)
