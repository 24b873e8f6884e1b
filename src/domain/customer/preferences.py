"""How and when a customer wants to be contacted, and what they like."""

from pydantic import BaseModel, ConfigDict, Field

LANGUAGE_PATTERN = r"^[a-z]{2,3}(-[A-Z]{2})?$"


class ContactChannels(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    sms: bool = False
    email: bool = False
    call: bool = False
    push: bool = False


class Preferences(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    contact_channels: ContactChannels = Field(default_factory=ContactChannels)
    # Overrides every channel: nobody contacts a customer who asked not to be contacted.
    do_not_contact: bool = False
    best_contact_time: str | None = Field(default=None, max_length=50)
    preferred_payment: str | None = Field(default=None, max_length=50)
    favorite_products: list[str] = Field(default_factory=list, max_length=50)
    language: str | None = Field(default=None, pattern=LANGUAGE_PATTERN, description="BCP 47, e.g. pt or pt-BR")
