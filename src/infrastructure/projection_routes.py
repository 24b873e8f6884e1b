"""Each projection's name and the routing keys it consumes from the `customers` exchange.

What the broker's topology and the dead-letter tools need to know of the projections; kept
apart from `projection_registry`, whose entries wire handlers from the container, so that
those tools (which the container builds) do not import the container back.
"""

from application.insights import facts as insights
from application.projections import customer_details, customer_history

PROJECTION_ROUTING_KEYS: dict[str, tuple[str, ...]] = {
    customer_details.PROJECTION_NAME: ("customer.#", "segment.#"),
    customer_history.PROJECTION_NAME: ("customer.#",),
    insights.PROJECTION_NAME: ("customer.#",),
}
