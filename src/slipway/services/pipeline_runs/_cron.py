"""Cron expressions (five fields, UTC): when a schedule's occurrences fall.

`minute hour day-of-month month day-of-week`, with `*`, lists, ranges, steps (`*/15`, `1-5/2`),
month and weekday names, and the shorthands @hourly, @daily, @weekly, @monthly, @yearly. As in
Vixie cron, when both day fields are restricted a day matching either one is due.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from slipway.errors import InvalidInput

_SHORTHANDS = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
}
_MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
_DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
# (name, low, high, names)
_FIELDS = (
    ("minute", 0, 59, None),
    ("hour", 0, 23, None),
    ("day of month", 1, 31, None),
    ("month", 1, 12, _MONTHS),
    ("day of week", 0, 7, _DAYS),
)
_SEARCH_LIMIT = 50_000  # steps; any valid expression is due within about four years


@dataclass(frozen=True)
class Cron:
    text: str
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday
    any_day: bool
    any_weekday: bool

    @classmethod
    def parse(cls, text: str) -> Cron:
        expression = _SHORTHANDS.get(text.strip().lower(), text.strip())
        parts = expression.split()
        if len(parts) != 5:
            raise InvalidInput(
                f"cron {text!r} must have five fields (minute hour day-of-month month "
                "day-of-week), e.g. '0 3 * * *' for 03:00 UTC every day"
            )
        values = [_field(part, *spec, text) for part, spec in zip(parts, _FIELDS, strict=True)]
        weekdays = frozenset(0 if day == 7 else day for day in values[4])
        cron = cls(
            text=text.strip(),
            minutes=values[0],
            hours=values[1],
            days=values[2],
            months=values[3],
            weekdays=weekdays,
            any_day=parts[2] == "*",
            any_weekday=parts[4] == "*",
        )
        if cron.next_after(0) is None:
            raise InvalidInput(f"cron {text!r} never falls due (check the day and month)")
        return cron

    def _day_matches(self, moment: datetime) -> bool:
        by_day = moment.day in self.days
        by_weekday = (moment.isoweekday() % 7) in self.weekdays
        if self.any_day or self.any_weekday:
            return by_day and by_weekday
        return by_day or by_weekday

    def next_after(self, ms: int) -> int | None:
        """The first occurrence strictly after `ms` (milliseconds since the epoch)."""
        moment = datetime.fromtimestamp(ms // 1000, tz=UTC).replace(second=0, microsecond=0)
        moment += timedelta(minutes=1)
        for _ in range(_SEARCH_LIMIT):
            if moment.month not in self.months:
                year, month = divmod(moment.year * 12 + moment.month, 12)  # the next month
                moment = moment.replace(year=year, month=month + 1, day=1, hour=0, minute=0)
            elif not self._day_matches(moment):
                moment = (moment + timedelta(days=1)).replace(hour=0, minute=0)
            elif moment.hour not in self.hours:
                moment = (moment + timedelta(hours=1)).replace(minute=0)
            elif moment.minute not in self.minutes:
                moment += timedelta(minutes=1)
            else:
                return int(moment.timestamp()) * 1000
        return None

    def between(self, after_ms: int, until_ms: int) -> Iterator[int]:
        """Occurrences in (after_ms, until_ms], oldest first."""
        current = after_ms
        while (found := self.next_after(current)) is not None and found <= until_ms:
            yield found
            current = found


def _field(
    part: str, name: str, low: int, high: int, names: list[str] | None, text: str
) -> frozenset[int]:
    found: set[int] = set()
    for item in part.split(","):
        found.update(_item(item, name, low, high, names, text))
    return frozenset(found)


def _item(item: str, name: str, low: int, high: int, names: list[str] | None, text: str) -> range:
    base, _, step_text = item.partition("/")
    try:
        step = int(step_text) if step_text else 1
        if base == "*":
            start, end = low, high
        elif "-" in base:
            first, _, last = base.partition("-")
            start, end = _value(first, names), _value(last, names)
        else:
            start = _value(base, names)
            end = high if step_text else start
    except ValueError:
        raise InvalidInput(f"cron {text!r}: {item!r} is not a valid {name} field") from None
    if step < 1 or not low <= start <= end <= high:
        raise InvalidInput(f"cron {text!r}: {name} {item!r} must lie within {low}-{high}")
    return range(start, end + 1, step)


def _value(token: str, names: list[str] | None) -> int:
    if names is not None and token.lower() in names:
        return names.index(token.lower()) + (1 if names is _MONTHS else 0)
    return int(token)
