"""Support hours: when people are at work to take a handoff."""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pytest

from actions.support_hours import SupportHours

MON, TUE, WED, THU, FRI, SAT, SUN = range(7)
PARIS = ZoneInfo("Europe/Paris")


def paris(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    """Monday 30 November 2026 + `day` days, at the given time in Paris (UTC+1 in winter)."""
    return datetime(2026, 11, 30, hour, minute, second, tzinfo=PARIS) + timedelta(days=day)


@pytest.mark.parametrize(
    ("spec", "days", "start", "end"),
    [
        ("mon-fri 09:00-17:00", {MON, TUE, WED, THU, FRI}, time(9), time(17)),
        ("Mon-Fri 9:00-17:30", {MON, TUE, WED, THU, FRI}, time(9), time(17, 30)),
        ("  sat   10:00 - 14:00 ", {SAT}, time(10), time(14)),
        ("fri-mon 08:00-20:00", {FRI, SAT, SUN, MON}, time(8), time(20)),
        ("sun-sat 00:00-23:59", set(range(7)), time(0), time(23, 59)),
    ],
)
def test_valid_specs_are_parsed(spec, days, start, end):
    hours = SupportHours.parse(spec, "Europe/Paris")

    assert (hours.days, hours.start, hours.end, hours.zone) == (frozenset(days), start, end, PARIS)


@pytest.mark.parametrize("spec", ["always", "ALWAYS", "24/7", "", "  "])
def test_always_means_open_at_any_moment(spec):
    hours = SupportHours.parse(spec)

    assert hours.days is None
    assert all(hours.is_open(paris(day, hour)) for day in range(7) for hour in (0, 3, 12, 23))


@pytest.mark.parametrize(
    "spec",
    [
        "mon-fri",
        "09:00-17:00",
        "mon-fry 09:00-17:00",
        "monday 09:00-17:00",
        "mon-fri 9-17",
        "mon-fri 09:00-25:00",
        "mon-fri 09:60-17:00",
        "mon-fri 17:00-09:00",
        "mon-fri 09:00-09:00",
        "mon,wed 09:00-17:00",
    ],
)
def test_bad_specs_raise_value_error(spec):
    with pytest.raises(ValueError, match=r"support hours|hour|minute"):
        SupportHours.parse(spec)


def test_an_unknown_time_zone_is_refused():
    with pytest.raises(ZoneInfoNotFoundError):
        SupportHours.parse("mon-fri 09:00-17:00", "Europe/Lyon")


OFFICE = SupportHours.parse("mon-fri 09:00-17:00", "Europe/Paris")


@pytest.mark.parametrize(
    ("moment", "is_open"),
    [
        (paris(MON, 8, 59, 59), False),
        (paris(MON, 9), True),
        (paris(WED, 12), True),
        (paris(FRI, 16, 59, 59), True),
        (paris(FRI, 17), False),
        (paris(SAT, 12), False),
        (paris(SUN, 12), False),
    ],
)
def test_is_open_at_the_edges(moment, is_open):
    assert OFFICE.is_open(moment) is is_open


@pytest.mark.parametrize(
    ("utc_hour", "is_open"),
    # 09:00 in Paris is 08:00 UTC in winter; 17:00 in Paris is 16:00 UTC.
    [(7, False), (8, True), (15, True), (16, False)],
)
def test_is_open_compares_in_the_shops_time_zone(utc_hour, is_open):
    moment = datetime(2026, 12, 2, utc_hour, 0, tzinfo=timezone.utc)

    assert OFFICE.is_open(moment) is is_open


def test_the_weekday_is_the_shops_weekday():
    # Friday 23:30 in New York is already Saturday in Paris: closed on a fri-only schedule there,
    # open on a sat-only one.
    friday_night_in_new_york = datetime(2026, 12, 4, 23, 30, tzinfo=ZoneInfo("America/New_York"))

    assert not SupportHours.parse("fri 00:00-23:59", "Europe/Paris").is_open(friday_night_in_new_york)
    assert SupportHours.parse("sat 00:00-23:59", "Europe/Paris").is_open(friday_night_in_new_york)


def test_wrap_around_days_are_open_over_the_weekend():
    weekend = SupportHours.parse("fri-mon 08:00-20:00", "Europe/Paris")

    assert {day for day in range(7) if weekend.is_open(paris(day, 12))} == {FRI, SAT, SUN, MON}
