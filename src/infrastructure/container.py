"""The composition root: builds every adapter and handler from the settings.

The API, the workers and the CLI all start from this container. Clients (MongoDB,
Redis) are app-scoped singletons; handlers are cheap factories. The RabbitMQ connection
is opened asynchronously by `infrastructure.runtime`, not here.
"""

import redis.asyncio as redis
from dependency_injector import containers, providers

from application.commands.register_customer import RegisterCustomerHandler
from application.projections.customer_details import ProjectCustomerDetails
from application.queries.get_customer import GetCustomerHandler
from application.queries.list_customers import ListCustomersHandler
from application.queries.read_your_writes import ReadModelWait
from infrastructure.mongo.checkpoints import MongoCheckpoints
from infrastructure.mongo.customer_listing import MongoCustomerListing
from infrastructure.mongo.client import create_mongo_client
from infrastructure.mongo.customer_views import MongoCustomerViewStore
from infrastructure.mongo.event_store import MongoEventStore
from infrastructure.messaging.topology import Names
from infrastructure.redis.availability import RedisAvailability
from infrastructure.redis.customer_cache import RedisCustomerCache
from infrastructure.redis.read_model_updates import RedisReadModelAnnouncer, RedisReadModelUpdates
from infrastructure.settings import Settings
from infrastructure.system import SystemClock, UlidIdGenerator


class Container(containers.DeclarativeContainer):
    settings = providers.Singleton(Settings)

    mongo_client = providers.Singleton(create_mongo_client, settings.provided.mongodb_url)
    database = providers.Singleton(
        lambda client, name: client[name], mongo_client, settings.provided.mongodb_database
    )
    redis_client = providers.Singleton(
        redis.from_url, settings.provided.redis_url, socket_timeout=1.0, socket_connect_timeout=1.0
    )
    redis_availability = providers.Singleton(RedisAvailability, settings.provided.redis_pause_after_failure_seconds)
    read_model_channel = providers.Callable(
        lambda prefix: f"{prefix}read-model:customer_details", settings.provided.redis_key_prefix
    )
    amqp_names = providers.Singleton(Names, settings.provided.amqp_namespace)

    clock = providers.Singleton(SystemClock)
    ids = providers.Singleton(UlidIdGenerator)

    event_store = providers.Singleton(MongoEventStore, database, clock)
    customer_views = providers.Singleton(MongoCustomerViewStore, database)
    checkpoints = providers.Singleton(MongoCheckpoints, database, clock)
    customer_listing = providers.Singleton(MongoCustomerListing, database, clock)
    customer_cache = providers.Singleton(
        RedisCustomerCache,
        redis_client,
        settings.provided.redis_key_prefix,
        settings.provided.customer_cache_ttl_seconds,
        redis_availability,
    )
    read_model_announcer = providers.Singleton(
        RedisReadModelAnnouncer, redis_client, read_model_channel, redis_availability
    )
    # One subscription per process, on a client of its own (see RedisReadModelUpdates).
    read_model_updates = providers.Singleton(
        RedisReadModelUpdates,
        providers.Singleton(redis.from_url, settings.provided.redis_url, socket_connect_timeout=1.0),
        read_model_channel,
        settings.provided.read_your_writes_poll_seconds,
    )
    read_model_wait = providers.Singleton(
        ReadModelWait, read_model_updates, settings.provided.read_your_writes_wait_seconds
    )

    register_customer = providers.Factory(
        RegisterCustomerHandler, event_store, ids, clock, settings.provided.default_region
    )
    get_customer = providers.Factory(GetCustomerHandler, customer_views, customer_cache, event_store, read_model_wait)
    list_customers = providers.Factory(
        ListCustomersHandler, customer_listing, checkpoints, event_store, read_model_wait
    )
    project_customer_details = providers.Factory(
        ProjectCustomerDetails, customer_views, event_store, checkpoints, customer_cache, read_model_announcer
    )
