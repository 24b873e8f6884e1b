"""OpenTelemetry tracing, on when an exporter is configured (`CRM_OTEL_EXPORTER`).

Without one, the API's no-op tracer is used and spans cost nothing. `console` prints
spans (for development); `otlp` needs `opentelemetry-exporter-otlp` installed and reads
the standard `OTEL_EXPORTER_OTLP_*` variables.
"""

from opentelemetry import trace

TRACER_NAME = "crm"


def configure_tracing(exporter: str, service_name: str) -> None:
    if not exporter:
        return
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter

    if exporter == "console":
        span_exporter = ConsoleSpanExporter()
    elif exporter == "otlp":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter  # type: ignore[import-not-found]

        span_exporter = OTLPSpanExporter()
    else:
        raise ValueError(f"unknown CRM_OTEL_EXPORTER {exporter!r}; use console or otlp")
    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    provider.add_span_processor(BatchSpanProcessor(span_exporter))
    trace.set_tracer_provider(provider)


def tracer() -> trace.Tracer:
    return trace.get_tracer(TRACER_NAME)
