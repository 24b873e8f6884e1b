"""The composition root: builds every adapter and handler from the settings.

The API, the workers and the CLI all start from this container. Clients (MongoDB,
Redis) are app-scoped singletons; handlers are cheap factories. The RabbitMQ connection
is opened asynchronously by `infrastructure.runtime`, not here.
"""

import redis.asyncio as redis
from dependency_injector import containers, providers

from application.bulk.export_customers import ExportCustomersHandler
from application.bulk.get_import import GetImportHandler
from application.bulk.import_rows import ImportRowsHandler
from application.bulk.submit_import import SubmitImportHandler
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
from application.insights.facts import PROJECTION_NAME as INSIGHTS
from application.insights.get_insights import GetInsightsHandler
from application.integration.inbox import ProcessInboundMessages
from application.integration.integration_changes import IntegrationChanges
from application.integration.record_order import RecordOrderCancelled, RecordOrderCompleted, RecordOrderPlaced
from application.integration.record_payment import RecordPaymentOutcome, RecordRefund
from application.page_cursors import PageCursors
from application.phone_regions import PhoneRegions
from application.projections.customer_details import PROJECTION_NAME as CUSTOMER_DETAILS
from application.projections.customer_history import PROJECTION_NAME as CUSTOMER_HISTORY
from application.queries.customer_activity import ListHistoryHandler, ListNotesHandler
from application.queries.customer_as_of import GetCustomerAsOfHandler
from application.queries.customer_purchases import GetMetricsHandler, GetPurchasesHandler
from application.queries.export_customer import ExportCustomerHandler
from application.queries.get_customer import GetCustomerHandler
from application.queries.list_access_log import ListAccessLogHandler
from application.queries.list_customers import ListCustomersHandler
from application.queries.read_your_writes import PositionWait, ReadModelWait
from application.queries.reader import AuditedViews
from application.segments.define_segment import DefineSegmentHandler
from application.segments.delete_segment import DeleteSegmentHandler
from application.segments.segment_queries import (
    GetSegmentHandler,
    ListSegmentCustomersHandler,
    ListSegmentsHandler,
    SegmentLookup,
)
from infrastructure.access_log_spool import SpooledAccessLog
from infrastructure.crypto.contact_key_ids import ContactKeyIds
from infrastructure.crypto.customer_keys import CustomerKeyring
from infrastructure.crypto.master_keys import MasterKeys
from infrastructure.messaging.signatures import MessageSigner
from infrastructure.messaging.topology import Names
from infrastructure.mongo.access_log import MongoAccessLog
from infrastructure.mongo.checkpoints import MongoCheckpoints
from infrastructure.mongo.client import create_mongo_client
from infrastructure.mongo.command_support import (
    MongoContactKeyHolders,
    MongoIdempotencyOutcomes,
    MongoProcessedMessages,
    MongoSnapshots,
)
from infrastructure.mongo.coordination import MongoMembership, MongoPartitionLeases, MongoRelayProgress
from infrastructure.mongo.customer_history import MongoCustomerHistory
from infrastructure.mongo.customer_imports import MongoImportStore
from infrastructure.mongo.customer_listing import MongoCustomerListing
from infrastructure.mongo.customer_notes import MongoCustomerNotes
from infrastructure.mongo.customer_purchases import MongoCustomerPurchases
from infrastructure.mongo.customer_views import MongoCustomerViewStore
from infrastructure.mongo.documents import (
    CustomerHistoryEntry,
    CustomerNote,
    CustomerPurchase,
    CustomerSearchEntry,
    CustomerView,
    InsightsCounts,
    InsightsMember,
    InsightsPurchase,
    SegmentCount,
    SegmentDefinition,
)
from infrastructure.mongo.event_store import MongoEventStore
from infrastructure.mongo.insights import MongoInsights
from infrastructure.mongo.list_fences import ListFenceStore
from infrastructure.mongo.read_model_generations import ReadModelCollections, live_read
from infrastructure.mongo.segments import MongoSegments
from infrastructure.operations.parked_copies import RabbitParkedCopies
from infrastructure.redis.append_signal import RedisAppendAnnouncer, RedisAppendSignal
from infrastructure.redis.availability import RedisAvailability
from infrastructure.redis.cache_epoch import CacheEpoch
from infrastructure.redis.customer_cache import RedisCustomerCache
from infrastructure.redis.read_model_updates import RedisReadModelAnnouncer, RedisReadModelUpdates
from infrastructure.settings import Settings
from infrastructure.system import SystemClock, UlidIdGenerator


class Container(containers.DeclarativeContainer):
    settings = providers.Singleton(Settings)

    mongo_client = providers.Singleton(create_mongo_client, settings.provided.mongodb_url)
    database = providers.Singleton(lambda client, name: client[name], mongo_client, settings.provided.mongodb_database)
    redis_client = providers.Singleton(
        redis.from_url, settings.provided.redis_url, socket_timeout=1.0, socket_connect_timeout=1.0
    )
    redis_availability = providers.Singleton(RedisAvailability, settings.provided.redis_pause_after_failure_seconds)
    read_model_channel = providers.Callable(
        lambda prefix: f"{prefix}read-model:customer_details", settings.provided.redis_key_prefix
    )
    appends_channel = providers.Callable(lambda prefix: f"{prefix}appends", settings.provided.redis_key_prefix)
    amqp_names = providers.Singleton(Names, settings.provided.amqp_namespace)

    clock = providers.Singleton(SystemClock)
    ids = providers.Singleton(UlidIdGenerator)

    master_keys = providers.Singleton(MasterKeys, settings.provided.master_keys, settings.provided.active_master_key)
    keyring = providers.Singleton(CustomerKeyring, database, master_keys)
    contact_key_ids = providers.Singleton(ContactKeyIds, settings.provided.contact_hmac_key)
    append_announcer = providers.Singleton(RedisAppendAnnouncer, redis_client, appends_channel, redis_availability)
    # The relay's subscription, on a client of its own (see RedisAppendSignal).
    append_signal = providers.Factory(
        RedisAppendSignal,
        providers.Factory(redis.from_url, settings.provided.redis_url, socket_connect_timeout=1.0),
        appends_channel,
        settings.provided.log_partitions,
    )
    event_store = providers.Singleton(
        MongoEventStore, database, clock, keyring, contact_key_ids, settings.provided.log_partitions, append_announcer
    )
    read_model_collections = providers.Singleton(
        ReadModelCollections, database, settings.provided.read_model_refresh_seconds
    )
    segments = providers.Singleton(
        MongoSegments,
        database,
        providers.Callable(live_read, read_model_collections, CUSTOMER_DETAILS, SegmentDefinition.Settings.name),
        providers.Callable(live_read, read_model_collections, CUSTOMER_DETAILS, SegmentCount.Settings.name),
    )
    customer_views = providers.Singleton(
        MongoCustomerViewStore,
        database,
        providers.Callable(live_read, read_model_collections, CUSTOMER_DETAILS, CustomerView.Settings.name),
        providers.Callable(live_read, read_model_collections, CUSTOMER_DETAILS, CustomerSearchEntry.Settings.name),
        segments,
        providers.Callable(live_read, read_model_collections, CUSTOMER_DETAILS, SegmentCount.Settings.name),
        providers.Callable(live_read, read_model_collections, CUSTOMER_DETAILS, CustomerNote.Settings.name),
        providers.Callable(live_read, read_model_collections, CUSTOMER_DETAILS, CustomerPurchase.Settings.name),
    )
    customer_notes = providers.Singleton(
        MongoCustomerNotes,
        database,
        providers.Callable(live_read, read_model_collections, CUSTOMER_DETAILS, CustomerNote.Settings.name),
    )
    customer_purchases = providers.Singleton(
        MongoCustomerPurchases,
        database,
        providers.Callable(live_read, read_model_collections, CUSTOMER_DETAILS, CustomerPurchase.Settings.name),
    )
    checkpoints = providers.Singleton(MongoCheckpoints, database, clock, settings.provided.consumer_partitions)
    leases = providers.Singleton(MongoPartitionLeases, database, clock, settings.provided.membership_ttl_seconds)
    membership = providers.Singleton(MongoMembership, database, clock, settings.provided.membership_ttl_seconds)
    relay_progress = providers.Singleton(MongoRelayProgress, database, clock, settings.provided.log_partitions)
    message_signer = providers.Singleton(MessageSigner, settings.provided.message_signing_key)
    list_fences = providers.Singleton(ListFenceStore, database, clock)
    customer_listing = providers.Singleton(
        MongoCustomerListing,
        database,
        list_fences,
        providers.Callable(live_read, read_model_collections, CUSTOMER_DETAILS, CustomerView.Settings.name),
        providers.Callable(live_read, read_model_collections, CUSTOMER_DETAILS, CustomerSearchEntry.Settings.name),
    )
    page_cursors = providers.Singleton(PageCursors, settings.provided.cursor_signing_key)
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
    customer_changes = providers.Singleton(CustomerChanges, event_store, snapshots, idempotency_outcomes)

    phone_regions = providers.Singleton(
        PhoneRegions, settings.provided.default_region, settings.provided.regions_by_business
    )
    register_customer = providers.Factory(RegisterCustomerHandler, customer_changes, ids, clock, phone_regions)
    update_customer = providers.Factory(UpdateCustomerHandler, customer_changes, clock, phone_regions)
    replace_customer = providers.Factory(ReplaceCustomerHandler, customer_changes, clock, phone_regions)
    delete_customer = providers.Factory(DeleteCustomerHandler, customer_changes, clock)
    restore_customer = providers.Factory(RestoreCustomerHandler, customer_changes, clock)
    add_note = providers.Factory(AddNoteHandler, customer_changes, ids, clock)
    update_preferences = providers.Factory(UpdatePreferencesHandler, customer_changes, clock)
    set_consent = providers.Factory(SetConsentHandler, customer_changes, clock)
    merge_customers = providers.Factory(MergeCustomersHandler, customer_changes, clock)
    parked_copies = providers.Singleton(
        RabbitParkedCopies,
        settings.provided.rabbitmq_url,
        amqp_names,
        settings.provided.amqp_quorum_queues,
        settings.provided.consumer_partitions,
    )
    erase_customer = providers.Factory(EraseCustomerHandler, customer_changes, clock, event_store, parked_copies)
    erase_expired_customers = providers.Factory(EraseExpiredCustomersHandler, customer_views, erase_customer, clock)

    access_log = providers.Singleton(
        SpooledAccessLog, providers.Singleton(MongoAccessLog, database), settings.provided.access_log_spool_dir
    )
    customer_history = providers.Singleton(
        MongoCustomerHistory,
        database,
        providers.Callable(live_read, read_model_collections, CUSTOMER_HISTORY, CustomerHistoryEntry.Settings.name),
    )
    get_customer = providers.Factory(
        GetCustomerHandler, customer_views, customer_cache, event_store, read_model_wait, access_log, clock
    )
    position_wait = providers.Singleton(PositionWait, read_model_wait, checkpoints, event_store)
    list_customers = providers.Factory(
        ListCustomersHandler, customer_listing, position_wait, page_cursors, access_log, clock
    )
    define_segment = providers.Factory(DefineSegmentHandler, event_store, segments, ids, clock)
    delete_segment = providers.Factory(DeleteSegmentHandler, event_store, clock)
    list_segments = providers.Factory(ListSegmentsHandler, segments)
    segment_lookup = providers.Singleton(SegmentLookup, segments, event_store, read_model_wait)
    insight_counts = providers.Singleton(
        MongoInsights,
        database,
        providers.Callable(live_read, read_model_collections, INSIGHTS, InsightsMember.Settings.name),
        providers.Callable(live_read, read_model_collections, INSIGHTS, InsightsCounts.Settings.name),
        providers.Callable(live_read, read_model_collections, INSIGHTS, InsightsPurchase.Settings.name),
    )
    get_insights = providers.Factory(GetInsightsHandler, insight_counts, checkpoints, position_wait, clock)
    get_segment = providers.Factory(GetSegmentHandler, segments, segment_lookup)
    list_segment_customers = providers.Factory(ListSegmentCustomersHandler, segment_lookup, list_customers)
    audited_views = providers.Singleton(AuditedViews, customer_views, access_log, clock)
    list_notes = providers.Factory(ListNotesHandler, audited_views, customer_notes, page_cursors)
    list_history = providers.Factory(
        ListHistoryHandler, customer_history, customer_views, event_store, access_log, clock
    )
    export_customer = providers.Factory(
        ExportCustomerHandler, customer_changes, event_store, customer_history, access_log, clock
    )

    list_access_log = providers.Factory(ListAccessLogHandler, access_log, page_cursors, clock)
    get_customer_as_of = providers.Factory(GetCustomerAsOfHandler, event_store, access_log, clock)
    get_purchases = providers.Factory(GetPurchasesHandler, audited_views, customer_purchases, page_cursors)
    get_metrics = providers.Factory(GetMetricsHandler, get_customer)

    contact_key_holders = providers.Singleton(MongoContactKeyHolders, database, contact_key_ids)
    processed_messages = providers.Singleton(MongoProcessedMessages, database)
    integration_changes = providers.Singleton(
        IntegrationChanges,
        customer_changes,
        event_store,
        contact_key_holders,
        ids,
        clock,
        phone_regions,
    )
    process_inbound_messages = providers.Factory(
        ProcessInboundMessages,
        processed_messages,
        providers.Factory(RecordOrderPlaced, integration_changes),
        providers.Factory(RecordOrderCompleted, integration_changes),
        providers.Factory(RecordOrderCancelled, integration_changes),
        providers.Factory(RecordPaymentOutcome, integration_changes),
        providers.Factory(RecordRefund, integration_changes),
        concurrency=settings.provided.integration_concurrency,
    )

    # Bulk export and import (application/bulk): the import worker is built by infrastructure.import_worker.
    export_customers = providers.Factory(
        ExportCustomersHandler, customer_listing, position_wait, segment_lookup, access_log, clock
    )
    import_store = providers.Singleton(MongoImportStore, database)
    submit_import = providers.Factory(SubmitImportHandler, import_store, clock)
    get_import = providers.Factory(GetImportHandler, import_store)
    import_rows = providers.Factory(
        ImportRowsHandler, customer_changes, contact_key_holders, processed_messages, phone_regions, clock
    )
