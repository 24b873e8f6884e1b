"""Erasure's reach into the dead-letter queues: every parked message that names an erased
person (a customer id, an email, a phone) is dropped; the others stay where they were.

It only reads and acknowledges (passive declares, `basic.get`), so the API's broker user
needs nothing but read on the dead-letter queues. Messages are fetched unacknowledged on
one channel per queue; closing the channel hands back the ones kept, in order.
"""

import re
from collections.abc import Sequence

import aio_pika
from aio_pika.abc import AbstractIncomingMessage

from application.commands.erase_customer import ParkedCopies
from infrastructure.messaging.projection_messages import STREAM
from infrastructure.messaging.topology import Names
from infrastructure.operations.dead_letters import DeadLetterOperations

# A run of digits as people write phones: `+351 912 345 678`, `(912) 345-678`.
PHONE_LIKE = re.compile(r"\+?\d[\d\s().-]{5,}\d")


class RabbitParkedCopies(ParkedCopies):
    def __init__(self, rabbitmq_url: str, names: Names, quorum: bool, partitions: int):
        self._url = rabbitmq_url
        self._names = names
        self._quorum = quorum
        self._partitions = partitions

    async def forget(self, customer_ids: list[str], emails: list[str], phones: list[str]) -> int:
        queues = DeadLetterOperations(self._url, self._names, self._quorum, self._partitions).queues()
        words = [*customer_ids, *emails]
        dropped = 0
        connection = await aio_pika.connect(self._url, timeout=5)
        async with connection:
            for name in queues.values():
                channel = await connection.channel()
                try:
                    queue = await channel.declare_queue(name, passive=True)
                except aio_pika.exceptions.ChannelClosed:
                    continue  # not declared yet: nothing parked there
                while (message := await queue.get(no_ack=False, fail=False, timeout=5)) is not None:
                    if _names_any(message, words, phones):
                        await message.ack()
                        dropped += 1
                if not channel.is_closed:
                    await channel.close()
        return dropped


def _names_any(message: AbstractIncomingMessage, words: Sequence[str], phones: Sequence[str]) -> bool:
    stream = (message.headers or {}).get(STREAM)
    if isinstance(stream, bytes):
        stream = stream.decode(errors="replace")
    if stream in words:
        return True
    text = message.body.decode(errors="replace").casefold()
    if any(word and word.casefold() in text for word in words):
        return True
    written = {re.sub(r"\D", "", run) for run in PHONE_LIKE.findall(text)}
    return any(digits.endswith(phone) for digits in written for phone in phones if phone)
