"""Errors of the application layer (the domain's own live in `domain.errors`)."""


class ApplicationError(Exception):
    pass


class CustomerNotFound(ApplicationError):
    def __init__(self, customer_id: str):
        self.customer_id = customer_id
        super().__init__(f"customer {customer_id} not found")


class VersionConflict(ApplicationError):
    """Another writer appended to the stream first."""

    def __init__(self, stream_id: str, expected_version: int):
        self.stream_id = stream_id
        self.expected_version = expected_version
        super().__init__(f"stream {stream_id} is no longer at version {expected_version}")


class ReadModelBehind(ApplicationError):
    """The read model did not reach the version a reader asked for within the wait."""

    def __init__(self, customer_id: str, wanted_version: int, current_version: int):
        self.customer_id = customer_id
        self.wanted_version = wanted_version
        self.current_version = current_version
        super().__init__(
            f"customer {customer_id} is at version {current_version} in the read model, not yet {wanted_version}"
        )


class VersionNotFound(ApplicationError):
    """A reader asked for a version the customer's history never reached."""

    def __init__(self, customer_id: str, wanted_version: int, stream_version: int):
        self.customer_id = customer_id
        self.wanted_version = wanted_version
        self.stream_version = stream_version
        super().__init__(f"customer {customer_id} has version {stream_version}; {wanted_version} does not exist")


class ContactAlreadyTaken(ApplicationError):
    """Another active customer of the business holds this email or phone."""

    def __init__(self, kind: str, existing_customer_id: str | None):
        self.kind = kind
        self.existing_customer_id = existing_customer_id
        super().__init__(f"this {kind} belongs to customer {existing_customer_id}")


class StaleVersion(ApplicationError):
    """The client's If-Match names a version the customer has moved past."""

    def __init__(self, customer_id: str, expected_version: int, current_version: int):
        self.customer_id = customer_id
        self.expected_version = expected_version
        self.current_version = current_version
        super().__init__(f"customer {customer_id} is at version {current_version}, not {expected_version}")


class IdempotencyKeyReused(ApplicationError):
    """The same Idempotency-Key came with a different request."""


class IdempotencyKeyTaken(ApplicationError):
    """A concurrent request committed under the same Idempotency-Key first."""


class InvalidReference(ApplicationError):
    """A command names another customer that does not exist in the business."""

    def __init__(self, field: str, customer_id: str):
        self.field = field
        self.customer_id = customer_id
        super().__init__(f"{field}: customer {customer_id} not found")


class MessageAlreadyProcessed(ApplicationError):
    """An inbound message with this event id was committed before: a redelivery."""

    def __init__(self, message_id: str):
        self.message_id = message_id
        super().__init__(f"message {message_id} was already processed")
