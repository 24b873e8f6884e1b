"""Plausible Portuguese names for seeded customers, the same in every run (fixed seeds)."""

import random
import unicodedata

FIRST_NAMES = [
    "Ana",
    "João",
    "Maria",
    "José",
    "Inês",
    "Rui",
    "Sofia",
    "Tiago",
    "Beatriz",
    "Luís",
    "Marta",
    "Pedro",
    "Joana",
    "Miguel",
    "Carla",
    "André",
    "Rita",
    "Nuno",
    "Sara",
    "Hugo",
]
SYLLABLES = [
    "sil",
    "va",
    "sou",
    "sa",
    "al",
    "mei",
    "da",
    "fer",
    "rei",
    "ra",
    "cos",
    "ta",
    "mar",
    "tins",
    "pe",
    "rei",
    "lo",
    "pes",
    "gon",
    "ça",
    "ro",
    "dri",
    "gues",
    "bran",
    "co",
    "nu",
    "nes",
]


def surnames(count: int) -> list[str]:
    generator = random.Random(7)
    found: set[str] = set()
    while len(found) < count:
        found.add("".join(generator.choice(SYLLABLES) for _ in range(3)).capitalize())
    return sorted(found)


def people(count: int, distinct_surnames: int = 2000) -> list[tuple[str, str]]:
    """(first name, last name) for `count` customers."""
    generator = random.Random(11)
    last_names = surnames(min(distinct_surnames, max(1, count // 20)))
    return [(generator.choice(FIRST_NAMES), generator.choice(last_names)) for _ in range(count)]


def email_of(first: str, last: str, index: int) -> str:
    """The seeded customer's address: ASCII, unique by `index`."""
    local = unicodedata.normalize("NFKD", f"{first}.{last}{index}").encode("ascii", "ignore").decode()
    return f"{local.lower()}@example.com"
