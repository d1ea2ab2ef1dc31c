"""Wall-clock times in a branch's zone (app/core/localtime.py), on the Australia/Melbourne changes of
2026: daylight saving ends 5 Apr 2026 (03:00 +11:00 -> 02:00 +10:00, 02:00-03:00 happens twice) and
starts 4 Oct 2026 (02:00 +10:00 -> 03:00 +11:00, 02:00-03:00 never happens). A gap time is refused with
a ValidationFailed naming the field; a repeated time resolves to its first occurrence; offsets are right
on both sides of each change; a lesson across a change lasts its real length. No database."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

from datetime import date, datetime, time, timedelta, timezone

import pytest

from app.core.errors import ValidationFailed
from app.core.localtime import (
    duration, from_utc_naive, is_zone_name, iso_with_offset, localize, span, to_utc_naive, utc_offset, zone_for,
)

MELBOURNE = zone_for("Australia/Melbourne", "UTC")
APRIL_CHANGE = date(2026, 4, 5)     # fall back
OCTOBER_CHANGE = date(2026, 10, 4)  # spring forward
AEDT = timedelta(hours=11)
AEST = timedelta(hours=10)


def test_zone_for_known_name():
    assert zone_for("Australia/Perth", "Australia/Melbourne").key == "Australia/Perth"


@pytest.mark.parametrize("stored", [None, "", "   ", "Mars/Olympus", "Australia", "../etc/passwd",
                                    "/etc/localtime", "Australia/Melbourne\x00", "x" * 300])
def test_zone_for_empty_or_bad_stored_value_falls_back_to_default(stored):
    assert zone_for(stored, "Australia/Melbourne").key == "Australia/Melbourne"


def test_zone_for_tolerates_surrounding_spaces_in_a_stored_value():
    assert zone_for(" Australia/Perth ", "Australia/Melbourne").key == "Australia/Perth"


def test_is_zone_name():
    assert is_zone_name("Australia/Melbourne")
    for bad in (None, "", "Australia", "Nope/Zone", " Australia/Perth", "../x"):
        assert not is_zone_name(bad), bad


def test_offsets_on_both_sides_of_the_april_change():
    assert utc_offset(date(2026, 4, 4), time(9, 0), MELBOURNE) == AEDT
    assert utc_offset(APRIL_CHANGE, time(1, 59), MELBOURNE) == AEDT
    assert utc_offset(APRIL_CHANGE, time(3, 0), MELBOURNE) == AEST
    assert utc_offset(date(2026, 4, 6), time(9, 0), MELBOURNE) == AEST
    assert iso_with_offset(date(2026, 4, 4), time(9, 0), MELBOURNE) == "2026-04-04T09:00:00+11:00"
    assert iso_with_offset(date(2026, 4, 6), time(9, 0), MELBOURNE) == "2026-04-06T09:00:00+10:00"


def test_offsets_on_both_sides_of_the_october_change():
    assert utc_offset(date(2026, 10, 3), time(9, 0), MELBOURNE) == AEST
    assert utc_offset(OCTOBER_CHANGE, time(1, 59), MELBOURNE) == AEST
    assert utc_offset(OCTOBER_CHANGE, time(3, 0), MELBOURNE) == AEDT
    assert iso_with_offset(date(2026, 10, 3), time(9, 0), MELBOURNE) == "2026-10-03T09:00:00+10:00"
    assert iso_with_offset(date(2026, 10, 5), time(9, 0), MELBOURNE) == "2026-10-05T09:00:00+11:00"


def test_spring_forward_gap_is_refused_naming_the_field():
    for moment in (time(2, 0), time(2, 30), time(2, 59)):
        with pytest.raises(ValidationFailed) as failure:
            localize(OCTOBER_CHANGE, moment, MELBOURNE, field="end_time")
        assert failure.value.field == "end_time"
        assert "end_time" in failure.value.errors
    with pytest.raises(ValidationFailed) as failure:
        localize(OCTOBER_CHANGE, time(2, 30), MELBOURNE)
    assert failure.value.field == "start_time"
    assert failure.value.message == (
        "02:30 does not exist on 4 Oct 2026 in Australia/Melbourne: clocks go forward"
    )


def test_gap_is_refused_by_iso_and_span_too():
    with pytest.raises(ValidationFailed):
        iso_with_offset(OCTOBER_CHANGE, time(2, 15), MELBOURNE)
    with pytest.raises(ValidationFailed) as failure:
        span(OCTOBER_CHANGE, time(1, 0), time(2, 30), MELBOURNE)
    assert failure.value.field == "end_time"


def test_times_next_to_the_gap_exist():
    assert to_utc_naive(localize(OCTOBER_CHANGE, time(1, 59), MELBOURNE)) == datetime(2026, 10, 3, 15, 59)
    assert to_utc_naive(localize(OCTOBER_CHANGE, time(3, 0), MELBOURNE)) == datetime(2026, 10, 3, 16, 0)


def test_repeated_time_resolves_to_first_occurrence():
    first = localize(APRIL_CHANGE, time(2, 30), MELBOURNE)
    assert first.fold == 0
    assert first.utcoffset() == AEDT
    assert to_utc_naive(first) == datetime(2026, 4, 4, 15, 30)
    assert iso_with_offset(APRIL_CHANGE, time(2, 30), MELBOURNE) == "2026-04-05T02:30:00+11:00"
    # The second occurrence (an hour later in UTC) is never chosen, even when asked with fold=1.
    assert localize(APRIL_CHANGE, time(2, 30, fold=1), MELBOURNE).utcoffset() == AEDT


def test_lesson_across_the_april_change_lasts_an_hour_longer():
    start, end = span(APRIL_CHANGE, time(1, 30), time(3, 30), MELBOURNE)
    assert duration(start, end) == timedelta(hours=3)
    assert end - start == timedelta(hours=2)  # Python's same-zone subtraction is wall-clock: the trap
    assert to_utc_naive(start) == datetime(2026, 4, 4, 14, 30)
    assert to_utc_naive(end) == datetime(2026, 4, 4, 17, 30)
    assert start.isoformat() == "2026-04-05T01:30:00+11:00"
    assert end.isoformat() == "2026-04-05T03:30:00+10:00"


def test_lesson_across_the_october_change_lasts_an_hour_shorter():
    start, end = span(OCTOBER_CHANGE, time(1, 30), time(3, 30), MELBOURNE)
    assert duration(start, end) == timedelta(hours=1)
    assert start.isoformat() == "2026-10-04T01:30:00+10:00"
    assert end.isoformat() == "2026-10-04T03:30:00+11:00"


def test_ordinary_day_round_trips_through_storage():
    aware = localize(date(2026, 7, 1), time(9, 15), MELBOURNE)
    stored = to_utc_naive(aware)
    assert stored == datetime(2026, 6, 30, 23, 15) and stored.tzinfo is None
    back = from_utc_naive(stored, MELBOURNE)
    assert back == aware and back.replace(tzinfo=None) == datetime(2026, 7, 1, 9, 15)


def test_to_utc_naive_refuses_a_naive_value():
    with pytest.raises(ValueError):
        to_utc_naive(datetime(2026, 7, 1, 9, 0))
    assert to_utc_naive(datetime(2026, 7, 1, 9, 0, tzinfo=timezone.utc)) == datetime(2026, 7, 1, 9, 0)


def test_zone_without_daylight_saving_has_no_gap():
    brisbane = zone_for("Australia/Brisbane", "UTC")
    assert iso_with_offset(OCTOBER_CHANGE, time(2, 30), brisbane) == "2026-10-04T02:30:00+10:00"


def test_as_time_reads_a_time_column_from_either_driver():
    from datetime import time, timedelta

    from app.core.localtime import as_time

    assert as_time(time(9, 30)) == time(9, 30)
    assert as_time(timedelta(hours=9, minutes=30)) == time(9, 30)   # PyMySQL
    assert as_time("08:00:00") == time(8, 0)                       # SQLite aggregate (MIN(start_time))
    assert as_time("junk") is None and as_time(None, time(0, 0)) == time(0, 0)


def test_iso_with_offset_is_the_same_text_on_every_day_the_fast_way_or_not():
    """The steady-day shortcut gives exactly what localising each time gives, on every day of two years
    in zones with and without clock changes (a half-hour change, a negative offset, UTC), and the clock
    change days still take the checked way (a gap time is refused)."""
    from datetime import date, time, timedelta
    from zoneinfo import ZoneInfo

    import pytest

    from app.core import localtime
    from app.core.errors import ValidationFailed

    times = [time(0, 0), time(1, 30), time(2, 30), time(3, 0), time(9, 15, 42, 900), time(23, 59, 59)]
    for name in ("Australia/Melbourne", "Australia/Lord_Howe", "Australia/Perth", "America/New_York", "UTC"):
        zone = ZoneInfo(name)
        day = date(2026, 1, 1)
        while day < date(2028, 1, 1):
            for moment in times:
                try:
                    slow = localtime.localize(day, moment.replace(microsecond=0), zone).isoformat()
                except ValidationFailed:
                    with pytest.raises(ValidationFailed):
                        localtime.iso_with_offset(day, moment, zone)
                    continue
                assert localtime.iso_with_offset(day, moment, zone) == slow, (name, day, moment)
            day += timedelta(days=1)
    with pytest.raises(ValidationFailed):   # 02:30 on the first Sunday of October does not exist in Melbourne
        localtime.iso_with_offset(date(2026, 10, 4), time(2, 30), ZoneInfo("Australia/Melbourne"))


def test_steady_day_is_false_only_on_the_days_a_zone_changes_its_clock():
    from zoneinfo import ZoneInfo

    from app.core.localtime import steady_day

    melbourne, utc = ZoneInfo("Australia/Melbourne"), ZoneInfo("UTC")
    changes = {date(2026, 4, 5), date(2026, 10, 4)}
    day = date(2026, 1, 1)
    while day.year == 2026:
        assert steady_day(day, melbourne) is (day not in changes), day
        assert steady_day(day, utc)
        day += timedelta(days=1)
