"""What a customer's read-model view and write-side snapshot weigh as its purchase
history grows.

The view (`customer_details`) and the snapshot (`customer_snapshots`) hold the customer's
state and metrics; its orders and payments are documents of their own
(`customer_purchases`, `customer_purchase_records`). The baseline is each as it was stored
before (the state with its whole history inside; MongoDB refuses a document over 16 MB).
Sizes are the BSON that MongoDB stores, so they do not depend on the machine.

    .venv/bin/python bench/view_size.py [--orders 10,1000,5000]
"""

import argparse
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import bson

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from domain.customer.metrics import purchase_metrics  # noqa: E402
from domain.customer.profile import CustomerSegment, CustomerType  # noqa: E402
from domain.customer.purchases import (  # noqa: E402
    OrderRecord,
    OrderRole,
    OrderStatus,
    PaymentRecord,
    PaymentStatus,
    PurchaseHistory,
)
from domain.customer.state import CustomerState  # noqa: E402
from infrastructure.mongo.customer_purchases import purchase_documents  # noqa: E402
from infrastructure.mongo.customer_views import view_document  # noqa: E402
from infrastructure.mongo.snapshot_shape import snapshot_document  # noqa: E402

START = datetime(2025, 1, 1, tzinfo=UTC)


def history(orders: int) -> PurchaseHistory:
    """`orders` completed orders, each paid once."""
    return PurchaseHistory(
        orders=tuple(
            OrderRecord(order_id=f"ord_{index:06d}", roles=(OrderRole.BOOKER,), purchaser=True,
                        placed_at=START + timedelta(hours=index), total_amount_minor=4500, currency="EUR",
                        items_count=2, status=OrderStatus.COMPLETED,
                        completed_at=START + timedelta(hours=index, minutes=5))
            for index in range(orders)
        ),
        payments=tuple(
            PaymentRecord(payment_id=f"pay_{index:06d}", order_id=f"ord_{index:06d}",
                          status=PaymentStatus.SUCCEEDED, amount_minor=4500, currency="EUR", method="card",
                          at=START + timedelta(hours=index, minutes=1))
            for index in range(orders)
        ),
    )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", default="10,1000,5000", help="orders (each with a payment), comma-separated")
    sizes = [int(size) for size in parser.parse_args().orders.split(",")]
    print("| orders + payments | view with the history inside (before) | view now | ratio | snapshot with the history inside (before) | snapshot now | ratio | records, each collection (largest) |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|")
    for orders in sizes:
        purchases = history(orders)
        state = CustomerState(
            id="cus_1", business_id="biz_1", first_name="Ana", last_name="Silva", email="ana@example.com",
            type=CustomerType.REGULAR, segment=list(CustomerSegment)[0], purchases=purchases,
            metrics=purchase_metrics(purchases), version=2 * orders + 1, created_at=START, updated_at=START,
        )  # fmt: skip
        whole = state.model_dump(mode="python")
        view = view_document(state, set())
        snapshot = snapshot_document(state.business_id, state)
        records = purchase_documents(state.business_id, state.id, purchases)
        largest = max((len(bson.encode(document)) for document in records.values()), default=0)
        print(f"| {orders:,} + {orders:,} | {sizes_and_ratio(view, whole)} | {sizes_and_ratio(snapshot, whole)} | "
              f"{len(records):,} ({largest} B) |")  # fmt: skip


def sizes_and_ratio(document: dict, whole_state: dict) -> str:
    now, before = len(bson.encode(document)), len(bson.encode({**document, "state": whole_state}))
    return f"{before:,} B | {now:,} B | {before / now:.1f}x"


if __name__ == "__main__":
    main()
