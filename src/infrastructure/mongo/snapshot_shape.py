"""How a customer's snapshot is stored, and which code it was written by.

The shape is the aggregate's declared snapshot version (bumped when `apply` changes
meaning) and the JSON schema of its state (which changes by itself when a field is added,
removed or retyped). A snapshot of another shape is ignored and the customer is loaded
from its events; its next append writes a snapshot of the current shape.
"""

import hashlib
import json
from functools import cache
from typing import Any

from domain.customer.aggregate import Customer
from domain.customer.state import CustomerState


@cache
def snapshot_shape() -> str:
    schema = json.dumps(CustomerState.model_json_schema(), sort_keys=True)
    return f"{Customer.SNAPSHOT_VERSION}:{hashlib.sha256(schema.encode()).hexdigest()[:16]}"


def snapshot_document(business_id: str, state: CustomerState) -> dict[str, Any]:
    """The snapshot without the purchase history, which is kept a record per order and per
    payment (`customer_purchase_records`); `state.purchase_records` counts them, so that a
    load reads them only when there are some."""
    return {
        "business_id": business_id,
        "version": state.version,
        "shape": snapshot_shape(),
        "state": state.model_dump(mode="python", exclude={"purchases"}),
    }
