"""The rule that a deployment never runs on a secret anyone can read in this repository.

Outside development mode (`CRM_ENV=development`) the API, the workers and the operations
commands refuse to start when a secret is missing (so its development default would be
used) or is one of the development secrets the source, the tests, the benchmarks or an
older docker-compose file publish. `make run`, `make test` and the harnesses set
development mode; a deployment sets its own secrets.
"""

import base64

from infrastructure.settings import Settings

DEVELOPMENT_MODE = "development"

# The setting names whose values are secrets, and the environment variables that set them.
SECRET_SETTINGS = ("jwt_secret", "master_keys", "contact_hmac_key", "message_signing_key", "cursor_signing_key")

# Secrets published outside settings.py: docker-compose's old fallback, the tests, the
# benchmarks and the chaos stack.
PUBLISHED_SECRETS = frozenset(
    {
        "change-me-to-a-secret-of-at-least-32-bytes",
        "test-secret-which-is-long-enough",
        "bench-secret-that-is-long-enough-for-hs256",
        "chaos-secret-that-is-long-enough-for-hs256",
    }
)


class KnownSecrets(ValueError):
    """A process outside development mode was given a missing or published secret."""


def refuse_known_secrets(settings: Settings) -> None:
    """Raises `KnownSecrets` (a one-line message) unless every secret is one of our own,
    or the process runs in development mode."""
    if settings.env == DEVELOPMENT_MODE:
        return
    known = [f"CRM_{name.upper()}" for name in SECRET_SETTINGS if _is_known(name, getattr(settings, name))]
    if known:
        raise KnownSecrets(
            f"refusing to start with a missing or development secret: {', '.join(known)} "
            f"(set secrets of your own, or CRM_ENV={DEVELOPMENT_MODE} for development only)"
        )


def _is_known(name: str, value: str) -> bool:
    default = Settings.model_fields[name].default
    if name == "master_keys":
        published = {_key_material(pair) for pair in default.split(",")}
        return any(_key_material(pair) in published for pair in value.split(","))
    return value == default or value in PUBLISHED_SECRETS


def _key_material(pair: str) -> bytes:
    encoded = pair.strip().partition(":")[2]
    try:
        return base64.b64decode(encoded)
    except ValueError:
        return encoded.encode()
