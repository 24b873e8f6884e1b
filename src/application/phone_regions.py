"""The region a business's phones are read in when they come without a country code.

The contract makes it a setting, "one per deployment, overridable per business". Every
path that takes a phone (the HTTP commands and the order and payment messages) asks
`PhoneRegions.region_for`, so one local number gives one E.164 number, and one contact
key, whichever way it arrives.
"""

from collections.abc import Mapping


class PhoneRegions:
    def __init__(self, default_region: str, regions_by_business: Mapping[str, str]):
        self._default_region = default_region
        self._regions_by_business = dict(regions_by_business)

    def region_for(self, business_id: str) -> str:
        """An ISO 3166 code such as `PT`: the business's own region, else the deployment's."""
        return self._regions_by_business.get(business_id, self._default_region)
