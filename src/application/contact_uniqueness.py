"""The rule: an active customer holds its email (case-folded) and its phone (E.164) alone
within its business.

Which keys a customer holds is the domain's answer (`CustomerState.contact_keys`: only an
active customer holds any). This module turns the keys that customers held before a
commit and hold after it into what the commit releases and claims. The event store
executes that in the commit's transaction and refuses a claim on a key another customer
holds (`ContactAlreadyTaken`): two concurrent registrations with one email cannot both
commit. Keys are stored as keyed hashes (`infrastructure.crypto.contact_key_ids`).
"""

from collections.abc import Iterable

from application.commits import ContactKey
from domain.customer.aggregate import Customer

# (kind, normalized value, customer id)
HeldKey = tuple[str, str, str]


def keys_held(customers: Iterable[Customer]) -> frozenset[HeldKey]:
    """The contact keys the customers hold now."""
    return frozenset(
        (kind, value, customer.id) for customer in customers for kind, value in customer.state.contact_keys()
    )


def releases_and_claims(
    business_id: str, before: frozenset[HeldKey], after: frozenset[HeldKey]
) -> tuple[tuple[ContactKey, ...], tuple[ContactKey, ...]]:
    """What a commit releases (held before, not after) and claims (held after, not before)."""
    return (
        tuple(_contact_key(business_id, key) for key in sorted(before - after)),
        tuple(_contact_key(business_id, key) for key in sorted(after - before)),
    )


def _contact_key(business_id: str, key: HeldKey) -> ContactKey:
    kind, value, customer_id = key
    return ContactKey(business_id=business_id, kind=kind, value=value, customer_id=customer_id)
