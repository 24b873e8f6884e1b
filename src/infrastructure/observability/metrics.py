"""Every Prometheus metric of the service, in one place.

Counters and histograms are updated where things happen (HTTP middleware, relay,
consumers, projectors, cache). Gauges of state held elsewhere (outbox, projection lag,
dead-letter depth) are computed on scrape by `scrape_gauges.refresh`. The API serves
`/metrics`; each worker serves its own on `CRM_METRICS_PORT` (see README).

`crm api --workers N` runs N API processes: prometheus_client's multiprocess mode (each
process writes its values to files in `PROMETHEUS_MULTIPROC_DIR`) sums their counters on
scrape, and the gauges computed on scrape keep the most recent value of any process.
"""

import os

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Gauge, Histogram, multiprocess
from prometheus_client import generate_latest as _generate_latest

MULTIPROCESS_DIRECTORY = "PROMETHEUS_MULTIPROC_DIR"
# Which value of a gauge set by several processes a scrape shows.
_SCRAPED = "mostrecent"


def exposition() -> tuple[bytes, str]:
    """The metrics of this process, or of every API process when there are several."""
    if os.environ.get(MULTIPROCESS_DIRECTORY):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return _generate_latest(registry), CONTENT_TYPE_LATEST
    return _generate_latest(REGISTRY), CONTENT_TYPE_LATEST


HTTP_REQUESTS = Counter("crm_http_requests_total", "HTTP requests by route and status", ["method", "route", "status"])
HTTP_LATENCY = Histogram(
    "crm_http_request_duration_seconds",
    "HTTP request latency by route",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
COMMAND_OUTCOMES = Counter(
    "crm_command_outcomes_total",
    "Commands by outcome (ok, rejected, conflict, not_found, error)",
    ["command", "outcome"],
)

OUTBOX_PENDING = Gauge(
    "crm_outbox_pending_events", "Events committed but not yet published", multiprocess_mode=_SCRAPED
)
OUTBOX_OLDEST_AGE = Gauge(
    "crm_outbox_oldest_pending_age_seconds", "Age of the oldest unpublished event", multiprocess_mode=_SCRAPED
)
RELAY_PUBLISHED = Counter("crm_relay_published_events_total", "Events the relay published (confirmed)")

CONSUMED = Counter("crm_consumer_messages_total", "Messages consumed by queue and outcome", ["queue", "outcome"])
DEAD_LETTERS = Gauge(
    "crm_dead_letter_messages", "Messages parked in a dead-letter queue", ["queue"], multiprocess_mode=_SCRAPED
)

PROJECTION_APPLIED = Counter("crm_projection_events_total", "Events handled by a live projection", ["projection"])
PROJECTION_BATCH_SECONDS = Histogram("crm_projection_batch_seconds", "Time to apply one batch", ["projection"])
PROJECTION_LAG_EVENTS = Gauge(
    "crm_projection_lag_events",
    "Events behind the head of the event store",
    ["projection"],
    multiprocess_mode=_SCRAPED,
)
PROJECTION_LAG_SECONDS = Gauge(
    "crm_projection_lag_seconds",
    "Age of the oldest event a projection has not applied",
    ["projection"],
    multiprocess_mode=_SCRAPED,
)

# Set every few seconds by a worker's event loop: a stale value is a hung worker, which
# the worker's health check (interfaces/cli/healthcheck.py) reports.
WORKER_HEARTBEAT = Gauge(
    "crm_worker_heartbeat_timestamp_seconds", "When the worker's event loop last beat (Unix time)", ["worker"]
)

CACHE_LOOKUPS = Counter("crm_cache_lookups_total", "Customer cache lookups by result (hit, miss)", ["result"])
CACHE_HIT_RATIO = Gauge(
    "crm_cache_hit_ratio", "Hits over lookups of the process scraped last, since it started", multiprocess_mode=_SCRAPED
)

# Every command a process sends MongoDB (one round trip each): what a command or a message
# costs the database, counted where it is spent (bench/ sums it over the processes).
MONGODB_COMMANDS = Counter("crm_mongodb_commands_total", "Commands sent to MongoDB (round trips)", ["command"])
