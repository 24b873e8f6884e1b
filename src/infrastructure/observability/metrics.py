"""Every Prometheus metric of the service, in one place.

Counters and histograms are updated where things happen (HTTP middleware, relay,
consumers, projectors, cache). Gauges of state held elsewhere (outbox, projection lag,
dead-letter depth) are computed on scrape by `scrape_gauges.refresh`. The API serves
`/metrics`; each worker serves its own on `CRM_METRICS_PORT` (see README).
"""

from prometheus_client import Counter, Gauge, Histogram

HTTP_REQUESTS = Counter("crm_http_requests_total", "HTTP requests by route and status", ["method", "route", "status"])
HTTP_LATENCY = Histogram(
    "crm_http_request_duration_seconds",
    "HTTP request latency by route",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
COMMAND_OUTCOMES = Counter(
    "crm_command_outcomes_total", "Commands by outcome (ok, rejected, conflict, not_found, error)", ["command", "outcome"]
)

OUTBOX_PENDING = Gauge("crm_outbox_pending_events", "Events committed but not yet published")
OUTBOX_OLDEST_AGE = Gauge("crm_outbox_oldest_pending_age_seconds", "Age of the oldest unpublished event")
RELAY_PUBLISHED = Counter("crm_relay_published_events_total", "Events the relay published (confirmed)")

CONSUMED = Counter("crm_consumer_messages_total", "Messages consumed by queue and outcome", ["queue", "outcome"])
DEAD_LETTERS = Gauge("crm_dead_letter_messages", "Messages parked in a dead-letter queue", ["queue"])

PROJECTION_APPLIED = Counter("crm_projection_events_total", "Events handled by a live projection", ["projection"])
PROJECTION_BATCH_SECONDS = Histogram("crm_projection_batch_seconds", "Time to apply one batch", ["projection"])
PROJECTION_LAG_EVENTS = Gauge("crm_projection_lag_events", "Events behind the head of the event store", ["projection"])
PROJECTION_LAG_SECONDS = Gauge(
    "crm_projection_lag_seconds", "Age of the oldest event a projection has not applied", ["projection"]
)

CACHE_LOOKUPS = Counter("crm_cache_lookups_total", "Customer cache lookups by result (hit, miss)", ["result"])
CACHE_HIT_RATIO = Gauge("crm_cache_hit_ratio", "Hits over lookups of this process since it started")
