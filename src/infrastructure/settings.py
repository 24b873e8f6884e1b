"""Settings from the environment (`CRM_*`)."""

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

# SecantusDB (the dev/test server) needs both flags: a direct connection to its single
# node, and no retryable writes, whose bookkeeping slows it tenfold after 10k writes.
DEFAULT_MONGODB_URL = "mongodb://127.0.0.1:27017/?directConnection=true&retryWrites=false"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CRM_", extra="ignore")

    # `development` lets the processes start with the development secrets below; anything
    # else (the default) refuses them (infrastructure/known_secrets.py).
    env: str = "production"

    mongodb_url: str = DEFAULT_MONGODB_URL
    mongodb_database: str = "crm"
    rabbitmq_url: str = "amqp://guest:guest@127.0.0.1:5672/"
    # Prefixes every exchange and queue name; tests use it to keep runs apart.
    amqp_namespace: str = ""
    # Quorum queues are replicated and keep order; classic ones suit a broker without them.
    amqp_quorum_queues: bool = True
    redis_url: str = "redis://127.0.0.1:6379/0"
    # Prefixes every Redis key and channel; tests use it to keep runs apart.
    redis_key_prefix: str = "crm:"
    customer_cache_ttl_seconds: int = 300
    # How often an API process re-reads the cache epoch: after a Redis outage, an entry
    # the projector could not refresh may be served for at most this long.
    cache_epoch_refresh_seconds: float = 1.0
    # After a Redis failure, the cache and notifications skip Redis for this long.
    redis_pause_after_failure_seconds: float = 5.0

    # HS256 wants a key of at least 32 bytes (RFC 7518, section 3.2).
    jwt_secret: str = Field(default="dev-secret-change-me-at-least-32-bytes-long", min_length=32)
    jwt_algorithm: str = "HS256"
    # When set, tokens must carry this `iss` / `aud`; no token may live longer than the maximum.
    jwt_issuer: str = ""
    jwt_audience: str = ""
    jwt_max_lifetime_seconds: int = Field(default=24 * 3600, ge=60)

    # Envelope encryption of personal data: `id:base64(32 bytes)` pairs, comma-separated,
    # and the id new data keys are wrapped with. The default is for development only.
    master_keys: str = "dev-1:ZGV2LW1hc3Rlci1rZXktMzItYnl0ZXMtbG9uZy0hISE="
    active_master_key: str = "dev-1"
    # The HMAC key of the messages the relay publishes for the projections, which apply
    # nothing without it (docs/privacy.md). Only the relay and the projectors need it.
    message_signing_key: str = Field(default="dev-message-signing-key-change-me-32b!", min_length=32)
    # The HMAC key that signs page cursors (bound to the business and the query), so that a
    # cursor can't be forged or replayed elsewhere.
    cursor_signing_key: str = Field(default="dev-cursor-signing-key-change-me-32-bytes", min_length=32)
    # The HMAC key for contact keys (normalized email and phone). Changing it orphans the
    # uniqueness guard: rebuild it (see docs/privacy.md) after a change.
    contact_hmac_key: str = Field(default="dev-contact-hmac-key-change-me-32-bytes!", min_length=32)

    default_region: str = Field(default="PT", min_length=2, max_length=2)
    # Per business, the region for phones without a country code, as JSON: {"biz_7f3a": "BR"}.
    regions_by_business: dict[str, str] = {}

    # `crm retention run` erases customers soft-deleted for longer than this.
    retention_days: int = Field(default=365, ge=1)

    # Where each process spools the access log before shipping it to MongoDB (a local,
    # durable directory: a process killed leaves its spool for the next one to ship).
    access_log_spool_dir: str = ".data/access-log-spool"

    # Requests per user and per business, shared by every API process (limits' notation).
    rate_limit_per_user: str = "1200/minute"
    rate_limit_per_business: str = "6000/minute"

    api_host: str = "127.0.0.1"
    api_port: int = 8000
    # `crm api` processes sharing the port (uvicorn workers); /metrics sums them.
    api_workers: int = Field(default=1, ge=1, le=64)

    # How long `min_version` / `min_position` reads wait for the read model, and how often
    # they look when Redis notifications are unavailable.
    read_your_writes_wait_seconds: float = 2.0
    read_your_writes_poll_seconds: float = 0.02

    # Partitions (docs/scaling.md). A business's log is relayed by the holder of its log
    # partition; each projection and the integration worker consume through this many
    # queues, messages of one customer always through the same one. Every process of a
    # deployment must agree on both; change them only with the workers stopped.
    log_partitions: int = Field(default=4, ge=1, le=64)
    consumer_partitions: int = Field(default=4, ge=1, le=64)
    # A replica that misses heartbeats this long is dead; its partitions move to the
    # others. A relay's lease lasts as long, and a relay stops publishing `lease_margin`
    # seconds before its lease could expire.
    membership_ttl_seconds: float = Field(default=3.0, gt=0)
    lease_margin_seconds: float = Field(default=1.0, ge=0)

    # How often a process re-reads which generation of each read model to read and write
    # (a rebuild's switch is seen everywhere within this).
    read_model_refresh_seconds: float = Field(default=0.5, gt=0)

    relay_batch_size: int = 500
    # The relay wakes on each append (a Redis signal); this is only its safety-net sweep.
    relay_idle_sleep_seconds: float = 1.0
    projector_batch_size: int = 200
    projector_prefetch: int = 400
    # How long the projector of what readers wait for (customer_details) keeps taking
    # messages into a batch while they keep arriving (it stops at the first pause of 2 ms:
    # a lone message is not held back).
    projector_batch_window_seconds: float = 0.01
    # The projections no reader waits for (history, insights) collect this long, always: they
    # take the database after the one readers wait for, and in bigger batches.
    projector_background_window_seconds: float = Field(default=0.03, ge=0)
    # A message that fails this often with a non-transient error is parked.
    projector_max_attempts: int = 5
    # The integration worker (order and payment messages): the database is its bottleneck.
    integration_batch_size: int = 100
    integration_prefetch: int = 200
    integration_batch_window_seconds: float = 0.01
    # Messages of a batch decided at once: their commits share the event store's group commits.
    integration_concurrency: int = Field(default=16, ge=1)

    # Rebuilds and verifies read the event store and write the read model in batches this big.
    rebuild_batch_size: int = Field(default=2000, ge=1)
    # A rebuild folds this many customers in memory before writing them (about 5 KB each).
    rebuild_customers_in_memory: int = Field(default=100_000, ge=100)
    # A replaced generation of a read model is emptied at most this many documents per delete
    # (fewer when a delete would run over 50 ms: `bulk_writes.CommandSizer`) before it is dropped: SecantusDB blocks every client while it drops a collection (a
    # read waited 20 s while the read model of 10,000 customers went). 0 drops it at once,
    # as suits MongoDB, where a drop is metadata only (the compose stack sets 0).
    read_model_drop_batch: int = Field(default=500, ge=0)

    # Observability: each worker serves Prometheus metrics on this port (0: none; the API
    # serves /metrics itself); log level; `console` or `otlp` turns OpenTelemetry tracing on.
    metrics_port: int = 0
    # The bearer token `/metrics` on the API asks for; without one the API doesn't serve it.
    metrics_token: str = ""
    log_level: str = "INFO"
    otel_exporter: str = ""
