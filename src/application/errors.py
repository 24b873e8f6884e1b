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
