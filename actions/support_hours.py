"""When people are at work to take a handoff: "mon-fri 09:00-18:00" in the shop's time zone."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, time
from zoneinfo import ZoneInfo

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SPEC = re.compile(
    r"^\s*(?P<first>[a-z]{3})(?:\s*-\s*(?P<last>[a-z]{3}))?\s+"
    r"(?P<start>\d{1,2}:\d{2})\s*-\s*(?P<end>\d{1,2}:\d{2})\s*$"
)


@dataclass(frozen=True, slots=True)
class SupportHours:
    """Opening hours; `None` days means always open (the default, and the demo's)."""

    days: frozenset[int] | None = None
    start: time = time(0, 0)
    end: time = time(23, 59, 59)
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))

    @classmethod
    def parse(cls, spec: str, zone: str = "UTC") -> SupportHours:
        """ "mon-fri 09:00-18:00" (or "always"); a bad spec raises ValueError at start-up."""
        if spec.strip().lower() in ("", "always", "24/7"):
            return cls(zone=ZoneInfo(zone))
        match = _SPEC.match(spec.lower())
        if not match or match["first"] not in DAYS or (match["last"] or match["first"]) not in DAYS:
            raise ValueError(f"support hours {spec!r}: expected e.g. 'mon-fri 09:00-18:00' or 'always'")
        first, last = DAYS.index(match["first"]), DAYS.index(match["last"] or match["first"])
        days = (
            frozenset(range(first, last + 1))
            if first <= last
            else frozenset([*range(first, 7), *range(last + 1)])
        )
        start, end = time.fromisoformat(match["start"].zfill(5)), time.fromisoformat(match["end"].zfill(5))
        if start >= end:
            # is_open compares within one day: "22:00-06:00" would silently never be open.
            raise ValueError(f"support hours {spec!r}: the opening time must come before the closing time")
        return cls(days=days, start=start, end=end, zone=ZoneInfo(zone))

    def is_open(self, moment: datetime) -> bool:
        """Whether `moment` (timezone-aware) falls inside the opening hours."""
        if self.days is None:
            return True
        local = moment.astimezone(self.zone)
        return local.weekday() in self.days and self.start <= local.time() < self.end
