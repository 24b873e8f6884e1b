"""Settings from the environment (`CRM_*`)."""

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

# SecantusDB (the dev/test server) needs both flags: a direct connection to its single
# node, and no retryable writes, whose bookkeeping slows it tenfold after 10k writes.
DEFAULT_MONGODB_URL = "mongodb://127.0.0.1:27017/?directConnection=true&retryWrites=false"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CRM_", extra="ignore")

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

    # Envelope encryption of personal data: `id:base64(32 bytes)` pairs, comma-separated,
    # and the id new data keys are wrapped with. The default is for development only.
    master_keys: str = "dev-1:ZGV2LW1hc3Rlci1rZXktMzItYnl0ZXMtbG9uZy0hISE="
    active_master_key: str = "dev-1"
    # The HMAC key for contact keys (normalized email and phone). Changing it orphans the
    # uniqueness guard: rebuild it (see docs/privacy.md) after a change.
    contact_hmac_key: str = Field(default="dev-contact-hmac-key-change-me-32-bytes!", min_length=32)

    default_region: str = Field(default="PT", min_length=2, max_length=2)
    # Per business, the region for phones without a country code, as JSON: {"biz_7f3a": "BR"}.
    regions_by_business: dict[str, str] = {}

    # `crm retention run` erases customers soft-deleted for longer than this.
    retention_days: int = Field(default=365, ge=1)

    # Requests per user and per business, shared by every API process (limits' notation).
    rate_limit_per_user: str = "1200/minute"
    rate_limit_per_business: str = "6000/minute"

    api_host: str = "127.0.0.1"
    api_port: int = 8000

    # How long `min_version` / `min_position` reads wait for the read model, and how often
    # they look when Redis notifications are unavailable.
    read_your_writes_wait_seconds: float = 2.0
    read_your_writes_poll_seconds: float = 0.02

    # A customer is snapshotted every N events, so a long history loads fast.
    snapshot_every: int = Field(default=50, ge=1)

    relay_batch_size: int = 500
    # The relay wakes on each append (change stream); this is only its safety-net poll.
    relay_idle_sleep_seconds: float = 1.0
    projector_batch_size: int = 200
    projector_prefetch: int = 400
    # How long the projector waits for more messages before writing a partial batch.
    projector_batch_window_seconds: float = 0.01
    # A message that fails this often with a non-transient error is parked.
    projector_max_attempts: int = 5
    # The integration worker (order and payment messages): the database is its bottleneck.
    integration_batch_size: int = 100
    integration_prefetch: int = 200
    integration_batch_window_seconds: float = 0.01



    # Rebuilds and verifies read the event store and write the read model in batches this big.
    rebuild_batch_size: int = Field(default=2000, ge=1)

    # Observability: each worker serves Prometheus metrics on this port (0: none; the API
    # serves /metrics itself); log level; `console` or `otlp` turns OpenTelemetry tracing on.
    metrics_port: int = 0
    log_level: str = "INFO"
    otel_exporter: str = ""
