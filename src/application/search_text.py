"""How names, emails and phones become search words, and a search box's text becomes terms.

Matching is on prefixes of whole words, case- and accent-insensitive: both sides go
through `fold`, so "Ána" and "ana" meet. Pure functions, shared by the projection (which
stores the words' prefixes) and the list query (which looks them up).
"""

import functools
import re
import unicodedata

import phonenumbers

# Prefixes are stored up to this length; a longer term is looked up by its first
# MAX_PREFIX_LENGTH characters and then checked against the whole words. Each prefix is an
# index entry in two indexes, and on SecantusDB the search entry was 42% of the server's
# time per registration (`bench/server_time.py`): 8 stores 27% fewer than 15 did (43 against
# 59 for a customer with a name, an email and a phone), and 8 characters of a name, an email
# or a phone number still pick out a handful of customers.
MAX_PREFIX_LENGTH = 8

_WORD_PARTS = re.compile(r"[^\W_]+")
_PHONE_LIKE = re.compile(r"^[\d\s+()./-]*\d[\d\s+()./-]*$")
_EDGE_PUNCTUATION = " \t,;:!?\"'()[]{}<>+*"


def fold(text: str) -> str:
    """Lower case without accents: "Ána" and "ANA" both become "ana"."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char)).casefold()


def words_of_text(text: str | None) -> list[str]:
    """Each whitespace-separated chunk, and the letter-or-digit runs inside it ("jean-paul": both)."""
    words: list[str] = []
    for chunk in fold(text or "").split():
        chunk = chunk.strip(_EDGE_PUNCTUATION)
        if chunk:
            words.append(chunk)
            words.extend(part for part in _WORD_PARTS.findall(chunk) if part != chunk)
    return words


def words_of_email(email: str | None) -> list[str]:
    """The whole address, its local part, its domain, and the runs inside them."""
    if not email:
        return []
    folded = fold(email.strip())
    local, _, domain = folded.partition("@")
    return [folded, local, domain, *_WORD_PARTS.findall(local), *_WORD_PARTS.findall(domain)]


def words_of_phone(e164: str | None) -> list[str]:
    """The digits with the country code, without it, and as dialled at home (trunk prefix)."""
    if not e164:
        return []
    return list(_phone_words(e164))


# Parsing and formatting a number costs ~35 µs, ten times the rest of a customer's words,
# and a search page checks the words of every customer it reads (the same ones, page after
# page): each number is worked out once.
@functools.lru_cache(maxsize=65_536)
def _phone_words(e164: str) -> tuple[str, ...]:
    digits = re.sub(r"\D", "", e164)
    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return (digits,)
    national = str(parsed.national_number)
    dialled = re.sub(r"\D", "", phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL))
    return (digits, national, dialled)


def prefixes(words: list[str]) -> list[str]:
    """Every prefix (1..MAX_PREFIX_LENGTH characters) of every word, each once."""
    seen: dict[str, None] = {}
    for word in words:
        for length in range(1, min(len(word), MAX_PREFIX_LENGTH) + 1):
            seen[word[:length]] = None
    return list(seen)


def query_terms(text: str) -> list[str]:
    """The terms a search box's text asks for; every one must prefix some word.

    Text made only of digits and phone punctuation is one phone number ("912 345 678").
    """
    if _PHONE_LIKE.match(text):
        return [re.sub(r"\D", "", text)]
    terms: list[str] = []
    for chunk in fold(text).split():
        term = chunk.strip(_EDGE_PUNCTUATION)
        if term and term not in terms:
            terms.append(term)
    return terms
