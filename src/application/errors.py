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


class ProjectionBehind(ApplicationError):
    """The read model did not reach the position a reader asked for within the wait."""

    def __init__(self, wanted_position: int, current_position: int):
        self.wanted_position = wanted_position
        self.current_position = current_position
        super().__init__(f"the read model is at position {current_position}, not yet {wanted_position}")


class PositionNotFound(ApplicationError):
    """A reader asked to wait for a position the business's log has not reached."""

    def __init__(self, wanted_position: int, head_position: int):
        self.wanted_position = wanted_position
        self.head_position = head_position
        super().__init__(
            f"the business's newest event is at position {head_position}; {wanted_position} does not exist"
        )


class InvalidCursor(ApplicationError):
    """A page cursor that this service did not make for this very query."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


class MessageAlreadyProcessed(ApplicationError):
    """An inbound message with this event id was committed before: a redelivery."""

    def __init__(self, message_id: str):
        self.message_id = message_id
        super().__init__(f"message {message_id} was already processed")


class SegmentNotFound(ApplicationError):
    def __init__(self, segment_id: str):
        self.segment_id = segment_id
        super().__init__(f"segment {segment_id} not found")


class SegmentNameTaken(ApplicationError):
    """Another segment of the business has this name."""

    def __init__(self, name: str, existing_segment_id: str | None):
        self.name = name
        self.existing_segment_id = existing_segment_id
        super().__init__(f"a segment named {name!r} exists")


class TooManySegments(ApplicationError):
    def __init__(self, limit: int):
        self.limit = limit
        super().__init__(f"a business has at most {limit} segments")
