"""Flag table columns that look like personal data.

A column is flagged with a kind when at least `threshold` (default half) of its sampled
non-blank values match that kind. Kinds and what matches:

- ``email``: ``local@domain.tld``, a dotted domain with an alphabetic (or punycode) TLD.
- ``phone``: North American ``415-555-2671`` / ``(415) 555 2671`` / ``+1 415.555.2671``;
  international ``+`` followed by 8-15 digits (``+442079460958``, ``+44 20 7946 0958``);
  national with a trunk 0 and a separator, 10-11 digits (``020 7946 0958``). Bare digit
  runs without ``+`` are never phones: they are indistinguishable from ids and amounts.
- ``card_number``: 13-19 digits, optionally grouped by spaces or dashes, Luhn-valid, not
  starting with 0. Integer columns holding 13+ digit numbers are checked for this kind too.
- ``national_id``: US Social Security numbers ``ddd-dd-dddd`` (or space-separated), outside
  the never-issued area 000, 666 and 900-999, group 00 and serial 0000; UK National
  Insurance numbers ``AB 12 34 56 C`` (with or without spaces, valid prefix letters).
- ``ip_address``: IPv4 dotted quads and IPv6, as Python's `ipaddress` parses them (no leading
  zeros, octets up to 255). Four-part version strings whose parts are all <= 255
  (``1.2.3.4``) are valid addresses and do count; three-part versions and parts above 255
  (``10.0.19041.1``) do not. A flag is a prompt to look, so a version column flagged as
  addresses costs a glance, while a missed address column would leak data.

Samples are the first `sample` non-blank values in file order, so a scan is reproducible.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Literal

import duckdb
from pydantic import BaseModel, ConfigDict, Field

from slipway.services.datasets.tables import sample_sql

__all__ = ["PII_KINDS", "PiiFlag", "PiiKind", "classify_values", "flag_columns", "scan_pii"]

PiiKind = Literal["email", "phone", "card_number", "national_id", "ip_address"]
PII_KINDS: tuple[PiiKind, ...] = ("email", "phone", "card_number", "national_id", "ip_address")
DEFAULT_SAMPLE = 1000
DEFAULT_THRESHOLD = 0.5
# Longer than any value of any kind (an e-mail address is at most 254 characters): long text
# is rejected before any regex runs on it.
_MAX_LENGTH = 254


class PiiFlag(BaseModel):
    """A column that looks like personal data of one kind."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    column: str
    kind: PiiKind
    match_rate: float = Field(ge=0, le=1, description="share of sampled values that match")
    sample_size: int = Field(ge=0, description="non-blank values sampled")


_EMAIL = re.compile(
    r"[\w!#$%&'*+/=?^`{|}~-]+(?:\.[\w!#$%&'*+/=?^`{|}~-]+)*"
    r"@(?:[^\W_](?:[\w-]{0,61}[^\W_])?\.)+(?:[^\W\d_]{2,63}|xn--[a-z0-9-]{1,59})",
    re.IGNORECASE,
)
_PHONE_CHARS = re.compile(r"\+?[0-9(][0-9() .-]{5,22}[0-9]", re.ASCII)
_NANP = re.compile(r"(?:\+?1[ .-]?)?(?:\([0-9]{3}\) ?|[0-9]{3}[ .-])[0-9]{3}[ .-][0-9]{4}")
_DECIMAL = re.compile(r"[0-9]+(?:\.[0-9]+)?")
_DOUBLE_SEPARATOR = re.compile(r"[ .-][ .-]|\(\)")
_CARD = re.compile(r"[1-9](?:[ -]?[0-9]){12,18}")
_SSN = re.compile(r"(?!000|666|9)[0-9]{3}([- ])(?!00)[0-9]{2}\1(?!0000)[0-9]{4}")
_NINO = re.compile(
    r"(?!BG|GB|KN|NK|NT|TN|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]"
    r" ?[0-9]{2} ?[0-9]{2} ?[0-9]{2} ?[A-D]"
)


def _is_email(value: str) -> bool:
    return _EMAIL.fullmatch(value) is not None


def _is_phone(value: str) -> bool:
    if _PHONE_CHARS.fullmatch(value) is None:
        return False
    body = value.removeprefix("+")
    if _DECIMAL.fullmatch(body) and not (body != value and body.isdigit()):
        return False  # a plain number; "+" and bare digits is E.164 though
    if _NANP.fullmatch(value):
        return True
    if _DOUBLE_SEPARATOR.search(value) or value.count("(") != value.count(")"):
        return False
    digits = sum(char.isdigit() for char in value)
    if value.startswith("+"):
        return 8 <= digits <= 15  # E.164: at most 15 digits with the country code
    # A trunk-0 national number needs a separator: bare zero-padded digits are ids.
    return value.lstrip("(").startswith("0") and 10 <= digits <= 11 and not value.isdigit()


def _luhn(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        digit = int(char)
        if position % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def _is_card_number(value: str) -> bool:
    if _CARD.fullmatch(value) is None:
        return False
    digits = value.replace(" ", "").replace("-", "")
    return len(set(digits)) > 1 and _luhn(digits)


def _is_national_id(value: str) -> bool:
    return _SSN.fullmatch(value) is not None or _NINO.fullmatch(value.upper()) is not None


def _is_ip_address(value: str) -> bool:
    try:
        if ":" in value:
            ipaddress.IPv6Address(value)
        elif value.count(".") == 3:
            ipaddress.IPv4Address(value)
        else:
            return False
    except ValueError:
        return False
    return True


_MATCHERS: dict[PiiKind, Callable[[str], bool]] = {
    "email": _is_email,
    "phone": _is_phone,
    "card_number": _is_card_number,
    "national_id": _is_national_id,
    "ip_address": _is_ip_address,
}


def classify_values(
    values: Iterable[str], kinds: Sequence[PiiKind] = PII_KINDS
) -> dict[PiiKind, float]:
    """The share of non-blank `values` that match each of `kinds` (0.0 when none are left).

    Values are stripped first; blank ones are left out of the share.
    """
    sample = [value.strip() for value in values if value and not value.isspace()]
    rates: dict[PiiKind, float] = {}
    for kind in kinds:
        matches = _MATCHERS[kind]
        hits = sum(1 for value in sample if len(value) <= _MAX_LENGTH and matches(value))
        rates[kind] = hits / len(sample) if sample else 0.0
    return rates


def flag_columns(
    samples: Mapping[str, Sequence[str]],
    *,
    threshold: float = DEFAULT_THRESHOLD,
    kinds: Sequence[PiiKind] = PII_KINDS,
) -> list[PiiFlag]:
    """Flags for every column whose sampled values match a kind at `threshold` or more."""
    flags: list[PiiFlag] = []
    for column, values in samples.items():
        size = sum(1 for value in values if value and not value.isspace())
        rates = classify_values(values, kinds)
        hits = [(rate, kind) for kind, rate in rates.items() if size and rate >= threshold]
        for rate, kind in sorted(hits, key=lambda hit: (-hit[0], PII_KINDS.index(hit[1]))):
            flags.append(PiiFlag(column=column, kind=kind, match_rate=rate, sample_size=size))
    return flags


def scan_pii(
    con: duckdb.DuckDBPyConnection,
    relation: str,
    columns: Sequence[str],
    *,
    integer_columns: Sequence[str] = (),
    sample: int = DEFAULT_SAMPLE,
    threshold: float = DEFAULT_THRESHOLD,
) -> list[PiiFlag]:
    """Sample `columns` (text) of `relation` in DuckDB and flag those that look like PII.

    `relation` is SQL naming a table or view (already quoted, never user text); column names
    are quoted here. `integer_columns` are checked for card numbers only: as numbers, the
    other kinds lose the punctuation that tells them apart from ordinary counts and ids.
    """
    text = {name: _sample(con, relation, name, sample) for name in columns}
    numbers = {name: _sample(con, relation, name, sample) for name in integer_columns}
    flags = flag_columns(text, threshold=threshold)
    flags += flag_columns(numbers, threshold=threshold, kinds=("card_number",))
    order = {name: index for index, name in enumerate([*columns, *integer_columns])}
    return sorted(flags, key=lambda flag: order[flag.column])


def _sample(con: duckdb.DuckDBPyConnection, relation: str, column: str, limit: int) -> list[str]:
    rows = con.execute(sample_sql(relation, column), {"limit": limit}).fetchall()
    return [str(row[0]) for row in rows]
