"""The composition root: builds every adapter and handler from the settings.

The API, the workers and the CLI all start from this container. Clients (MongoDB,
Redis) are app-scoped singletons; handlers are cheap factories. The RabbitMQ connection
is opened asynchronously by `infrastructure.runtime`, not here.
"""

import redis.asyncio as redis
from dependency_injector import containers, providers

from application.commands.add_note import AddNoteHandler
from application.commands.customer_changes import CustomerChanges
from application.commands.erase_customer import EraseCustomerHandler
from application.commands.erase_expired_customers import EraseExpiredCustomersHandler
from application.commands.lifecycle import DeleteCustomerHandler, RestoreCustomerHandler
from application.commands.merge_customers import MergeCustomersHandler
from application.commands.preferences_and_consents import SetConsentHandler, UpdatePreferencesHandler
from application.commands.register_customer import RegisterCustomerHandler
from application.commands.replace_customer import ReplaceCustomerHandler
from application.commands.update_customer import UpdateCustomerHandler
from application.integration.inbox import ProcessInboundMessages
from application.integration.integration_changes import IntegrationChanges
from application.integration.record_order import RecordOrderCancelled, RecordOrderCompleted, RecordOrderPlaced
from application.integration.record_payment import RecordPaymentOutcome, RecordRefund
from application.projections.customer_details import ProjectCustomerDetails
from application.projections.customer_history import ProjectCustomerHistory
from application.queries.customer_activity import ListHistoryHandler, ListNotesHandler
from application.queries.customer_purchases import GetMetricsHandler, GetPurchasesHandler
from application.queries.export_customer import ExportCustomerHandler
from application.queries.get_customer import GetCustomerHandler
from application.queries.list_customers import ListCustomersHandler
from application.queries.reader import AuditedViews
from application.queries.read_your_writes import ReadModelWait
from infrastructure.crypto.contact_key_ids import ContactKeyIds
from infrastructure.crypto.customer_keys import CustomerKeyring
from infrastructure.crypto.master_keys import MasterKeys
from infrastructure.mongo.access_log import MongoAccessLog
from infrastructure.redis.cache_epoch import CacheEpoch
from infrastructure.mongo.checkpoints import MongoCheckpoints
from infrastructure.mongo.customer_listing import MongoCustomerListing
from infrastructure.mongo.client import create_mongo_client
from infrastructure.mongo.command_support import (
    MongoContactKeyHolders,
    MongoIdempotencyOutcomes,
    MongoProcessedMessages,
    MongoSnapshots,
)
from infrastructure.mongo.customer_history import MongoCustomerHistory
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

    master_keys = providers.Singleton(MasterKeys, settings.provided.master_keys, settings.provided.active_master_key)
    keyring = providers.Singleton(CustomerKeyring, database, master_keys)
    contact_key_ids = providers.Singleton(ContactKeyIds, settings.provided.contact_hmac_key)
    event_store = providers.Singleton(MongoEventStore, database, clock, keyring, contact_key_ids)
    customer_views = providers.Singleton(MongoCustomerViewStore, database)
    checkpoints = providers.Singleton(MongoCheckpoints, database, clock)
    customer_listing = providers.Singleton(MongoCustomerListing, database, clock)
    cache_epoch = providers.Singleton(CacheEpoch, database, settings.provided.cache_epoch_refresh_seconds)
    customer_cache = providers.Singleton(
        RedisCustomerCache,
        redis_client,
        settings.provided.redis_key_prefix,
        settings.provided.customer_cache_ttl_seconds,
        redis_availability,
        cache_epoch,
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

    snapshots = providers.Singleton(MongoSnapshots, database)
    idempotency_outcomes = providers.Singleton(MongoIdempotencyOutcomes, database)
    customer_changes = providers.Singleton(
        CustomerChanges, event_store, snapshots, idempotency_outcomes, settings.provided.snapshot_every
    )

    register_customer = providers.Factory(
        RegisterCustomerHandler, customer_changes, ids, clock, settings.provided.default_region
    )
    update_customer = providers.Factory(UpdateCustomerHandler, customer_changes, clock, settings.provided.default_region)
    replace_customer = providers.Factory(
        ReplaceCustomerHandler, customer_changes, clock, settings.provided.default_region
    )
    delete_customer = providers.Factory(DeleteCustomerHandler, customer_changes, clock)
    restore_customer = providers.Factory(RestoreCustomerHandler, customer_changes, clock)
    add_note = providers.Factory(AddNoteHandler, customer_changes, ids, clock)
    update_preferences = providers.Factory(UpdatePreferencesHandler, customer_changes, clock)
    set_consent = providers.Factory(SetConsentHandler, customer_changes, clock)
    merge_customers = providers.Factory(MergeCustomersHandler, customer_changes, clock)
    erase_customer = providers.Factory(EraseCustomerHandler, customer_changes, clock)
    erase_expired_customers = providers.Factory(EraseExpiredCustomersHandler, customer_views, erase_customer, clock)

    access_log = providers.Singleton(MongoAccessLog, database)
    customer_history = providers.Singleton(MongoCustomerHistory, database)
    get_customer = providers.Factory(
        GetCustomerHandler, customer_views, customer_cache, event_store, read_model_wait, access_log, clock
    )
    list_customers = providers.Factory(
        ListCustomersHandler, customer_listing, checkpoints, event_store, read_model_wait, access_log, clock
    )
    audited_views = providers.Singleton(AuditedViews, customer_views, access_log, clock)
    list_notes = providers.Factory(ListNotesHandler, audited_views)
    list_history = providers.Factory(ListHistoryHandler, customer_history, customer_views)
    export_customer = providers.Factory(
        ExportCustomerHandler, customer_changes, event_store, customer_history, access_log, clock
    )

    project_customer_details = providers.Factory(
        ProjectCustomerDetails, customer_views, event_store, checkpoints, customer_cache, read_model_announcer
    )
    project_customer_history = providers.Factory(ProjectCustomerHistory, customer_history, checkpoints)

    get_purchases = providers.Factory(GetPurchasesHandler, audited_views)
    get_metrics = providers.Factory(GetMetricsHandler, customer_views)

    contact_key_holders = providers.Singleton(MongoContactKeyHolders, database, contact_key_ids)
    processed_messages = providers.Singleton(MongoProcessedMessages, database)
    integration_changes = providers.Singleton(
        IntegrationChanges,
        customer_changes,
        event_store,
        contact_key_holders,
        ids,
        clock,
        settings.provided.default_region,
        settings.provided.regions_by_business,
    )
    process_inbound_messages = providers.Factory(
        ProcessInboundMessages,
        processed_messages,
        providers.Factory(RecordOrderPlaced, integration_changes),
        providers.Factory(RecordOrderCompleted, integration_changes),
        providers.Factory(RecordOrderCancelled, integration_changes),
        providers.Factory(RecordPaymentOutcome, integration_changes),
        providers.Factory(RecordRefund, integration_changes),
    )
