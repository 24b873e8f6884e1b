"""What the segment handlers need from the read side."""

from abc import ABC, abstractmethod
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


class SegmentView(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    business_id: str
    name: str
    filter: dict[str, Any]
    created_at: datetime
    # Whether every customer has been checked against it since it was defined: until then
    # its customers are listed by its filter, and its count is not complete.
    counted: bool = False


class SegmentReadModel(ABC):
    @abstractmethod
    async def list(self, business_id: str, limit: int) -> list[SegmentView]: ...

    @abstractmethod
    async def get(self, business_id: str, segment_id: str) -> SegmentView | None: ...

    @abstractmethod
    async def count(self, business_id: str, segment_id: str) -> int:
        """The customers matching the segment now: a sum of a few counters, kept exact by
        the projection that keeps the customers' membership."""


class SegmentWriter(ABC):
    """The segments' definitions, as the customer-details projection keeps them beside the
    customers (it keeps their membership, and their counts)."""

    @abstractmethod
    async def define(self, segment: SegmentView, version: int) -> None:
        """Stores the segment (unless a later version of it is there); its members are then
        counted from the customers, in the background."""

    @abstractmethod
    async def delete(self, business_id: str, segment_id: str, version: int) -> None: ...


class NoSegmentsKept(SegmentWriter):
    """For a projection that folds customers but keeps no segments (the insights)."""

    async def define(self, segment: SegmentView, version: int) -> None:
        return None

    async def delete(self, business_id: str, segment_id: str, version: int) -> None:
        return None
