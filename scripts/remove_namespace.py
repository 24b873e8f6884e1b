"""Removes the queues, exchanges and Redis keys of the namespace the CRM_* settings name
(`make fuzz` runs it when its stack stops)."""

import asyncio

from infrastructure.operations.namespaces import remove_namespace
from infrastructure.settings import Settings

if __name__ == "__main__":
    asyncio.run(remove_namespace(Settings()))
