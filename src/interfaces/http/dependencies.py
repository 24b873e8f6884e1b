"""What the controllers' dependencies are built from.

`create_app` keeps the container, the readiness probe and the scrape gauges in the
application's state. Each controller declares in its own `dependencies` what its routes
use: a handler comes fresh from the container for each request (the container's
factories are cheap; its clients are app-scoped singletons).
"""

from collections.abc import Callable
from typing import Any

from litestar.datastructures import State
from litestar.di import Provide

from interfaces.http.command_context import command_context, expected_version, reader

# What the command routes read from the request besides the body, and the reader of a query.
COMMAND_CONTEXT = {"context": Provide(command_context)}
IF_MATCH = {"if_match": Provide(expected_version, sync_to_thread=False)}
READER = {"reader": Provide(reader, sync_to_thread=False)}


def from_container(*provider_names: str) -> dict[str, Provide]:
    """One dependency per name, each what `Container.<name>()` builds."""
    return {name: Provide(_built_by_container(name), sync_to_thread=False) for name in provider_names}


def from_app_state(*keys: str) -> dict[str, Provide]:
    """One dependency per key, each the object `create_app` keeps under that key."""
    return {key: Provide(_kept_in_state(key), sync_to_thread=False) for key in keys}


# Litestar inspects the functions it is given: plain ones, taking the app's state.


def _built_by_container(provider_name: str) -> Callable[[State], Any]:
    def dependency(state: State) -> Any:
        return getattr(state.container, provider_name)()

    return dependency


def _kept_in_state(key: str) -> Callable[[State], Any]:
    def dependency(state: State) -> Any:
        return state[key]

    return dependency
