"""Working-day arithmetic: weekends, England and Wales bank holidays
(substitute days included), clock changes and the risk-rating limits."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from referrals import deadlines

LONDON = ZoneInfo("Europe/London")
HOUR = dt.timedelta(hours=1)


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=LONDON)


@pytest.mark.parametrize(
    "day, working",
    [
        (dt.date(2026, 12, 23), True),  # Wednesday
        (dt.date(2026, 12, 24), True),  # Christmas Eve is a working day
        (dt.date(2026, 12, 25), False),  # Friday, Christmas Day
        (dt.date(2026, 12, 26), False),  # Saturday, Boxing Day
        (dt.date(2026, 12, 27), False),  # Sunday
        (dt.date(2026, 12, 28), False),  # Monday, substitute for Boxing Day
        (dt.date(2026, 12, 29), True),
        (dt.date(2027, 1, 1), False),  # New Year's Day
        (dt.date(2027, 3, 26), False),  # Good Friday 2027
        (dt.date(2027, 3, 29), False),  # Easter Monday 2027
        (dt.date(2027, 3, 30), True),
        (dt.date(2026, 8, 31), False),  # summer bank holiday
        (dt.date(2026, 8, 28), True),
        (dt.date(2026, 11, 28), False),  # Saturday
        (dt.date(2026, 11, 29), False),  # Sunday
        (dt.date(2026, 11, 30), True),  # St Andrew's Day: Scotland only
        (dt.date(2027, 3, 17), True),  # St Patrick's Day: Northern Ireland only
    ],
)
def test_is_working_day(day, working):
    assert deadlines.is_working_day(day) is working


def test_is_working_day_judges_a_datetime_by_its_london_date():
    # 23:30 UTC on Sunday 30 August 2026 is 00:30 BST on the bank holiday.
    assert deadlines.is_working_day(dt.datetime(2026, 8, 30, 23, 30, tzinfo=dt.timezone.utc)) is False
    # 23:30 UTC on Monday 31 August is already Tuesday in London.
    assert deadlines.is_working_day(dt.datetime(2026, 8, 31, 23, 30, tzinfo=dt.timezone.utc)) is True


@pytest.mark.parametrize(
    "start, n, expected",
    [
        (at(2026, 12, 2, 10, 15), 1, at(2026, 12, 3, 10, 15)),  # Wednesday -> Thursday
        (at(2026, 12, 4, 16, 0), 1, at(2026, 12, 7, 16, 0)),  # Friday -> Monday
        (at(2026, 12, 24, 10, 0), 1, at(2026, 12, 29, 10, 0)),  # Christmas and the substitute day skipped
        (at(2026, 12, 24, 10, 0), 2, at(2026, 12, 30, 10, 0)),
        (at(2026, 8, 28, 9, 0), 1, at(2026, 9, 1, 9, 0)),  # summer bank holiday skipped
        (at(2027, 3, 25, 14, 0), 1, at(2027, 3, 30, 14, 0)),  # Easter 2027 skipped
        (at(2026, 12, 2, 10, 15), 0, at(2026, 12, 2, 10, 15)),
        # On a non-working day the clock starts at 00:00 on the next working day.
        (at(2026, 12, 5, 10, 0), 1, at(2026, 12, 8, 0, 0)),  # Saturday -> end of Monday
        (at(2026, 12, 25, 10, 0), 1, at(2026, 12, 30, 0, 0)),  # Christmas Day -> end of Tuesday 29th
    ],
)
def test_add_working_days(start, n, expected):
    assert deadlines.add_working_days(start, n) == expected


def test_add_working_days_keeps_the_local_time_across_a_clock_change():
    # Friday 27 March 2026 10:00 GMT; clocks go forward on Sunday 29 March.
    due = deadlines.add_working_days(at(2026, 3, 27, 10, 0), 1)
    assert timezone.localtime(due).replace(tzinfo=None) == dt.datetime(2026, 3, 30, 10, 0)
    # Real elapsed time: an hour lost (subtract in UTC: Python subtracts
    # datetimes sharing a tzinfo as wall-clock times).
    utc = dt.timezone.utc
    assert due.astimezone(utc) - at(2026, 3, 27, 10, 0).astimezone(utc) == dt.timedelta(hours=71)
    assert deadlines.working_time_left(at(2026, 3, 27, 10, 0), due) == dt.timedelta(hours=24)


def test_add_working_days_works_from_utc_input():
    start = dt.datetime(2026, 12, 4, 16, 0, tzinfo=dt.timezone.utc)  # Friday, GMT == UTC in winter
    assert deadlines.add_working_days(start, 1) == at(2026, 12, 7, 16, 0)


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError):
        deadlines.add_working_days(dt.datetime(2026, 12, 2, 10, 0), 1)
    with pytest.raises(ValueError):
        deadlines.working_time_left(dt.datetime(2026, 12, 2, 10, 0), at(2026, 12, 3, 10, 0))


@pytest.mark.parametrize(
    "start, hours, expected",
    [
        (at(2026, 12, 2, 10, 0), 2, at(2026, 12, 2, 12, 0)),
        (at(2026, 12, 2, 23, 0), 2, at(2026, 12, 3, 1, 0)),  # runs through the night
        (at(2026, 12, 4, 23, 0), 2, at(2026, 12, 7, 1, 0)),  # Friday night -> Monday 01:00
        (at(2026, 12, 4, 22, 0), 2, at(2026, 12, 7, 0, 0)),  # ends at the end of Friday -> Monday 00:00
        (at(2026, 12, 24, 20, 0), 6, at(2026, 12, 29, 2, 0)),  # Christmas weekend and substitute day
        (at(2026, 12, 26, 9, 0), 2, at(2026, 12, 29, 2, 0)),  # received on Boxing Day
        (at(2026, 12, 4, 10, 0), 24, at(2026, 12, 7, 10, 0)),  # 24 working hours == 1 working day
        (at(2027, 3, 25, 20, 0), 6, at(2027, 3, 30, 2, 0)),  # Easter 2027
    ],
)
def test_add_working_hours(start, hours, expected):
    assert deadlines.add_working_hours(start, hours) == expected


def test_decision_due_one_working_day_after_receipt_by_default(settings):
    settings.REFERRAL_DECISION_HOURS = {}
    with time_machine.travel(at(2026, 12, 24, 11, 30), tick=False):
        received = timezone.now()
        for risk in ("red", "amber", "green"):
            assert deadlines.decision_due_at(received, risk) == at(2026, 12, 29, 11, 30)


def test_decision_due_uses_the_risk_rating_limits_in_working_hours(settings):
    settings.REFERRAL_DECISION_HOURS = {"red": 2, "amber": 6}
    friday_night = at(2026, 12, 4, 23, 0)
    assert deadlines.decision_due_at(friday_night, "red") == at(2026, 12, 7, 1, 0)
    assert deadlines.decision_due_at(friday_night, "amber") == at(2026, 12, 7, 5, 0)
    # No limit for green: the one-working-day default.
    assert deadlines.decision_due_at(friday_night, "green") == at(2026, 12, 7, 23, 0)
    wednesday = at(2026, 12, 2, 9, 0)
    assert deadlines.decision_due_at(wednesday, "red") == at(2026, 12, 2, 11, 0)


def test_decision_due_over_a_bank_holiday_with_limits(settings):
    settings.REFERRAL_DECISION_HOURS = {"red": 2}
    with time_machine.travel(at(2026, 8, 28, 23, 30), tick=False):  # Friday before the summer bank holiday
        assert deadlines.decision_due_at(timezone.now(), "red") == at(2026, 9, 1, 1, 30)


def test_decision_due_refuses_a_meaningless_limit(settings):
    settings.REFERRAL_DECISION_HOURS = {"red": 0}
    with pytest.raises(ImproperlyConfigured):
        deadlines.decision_due_at(at(2026, 12, 2, 9, 0), "red")


def test_decision_due_is_never_before_receipt(settings):
    settings.REFERRAL_DECISION_HOURS = {"red": 1}
    start = at(2026, 12, 18, 0, 0)
    for step in range(0, 24 * 14, 5):
        received = start + dt.timedelta(hours=step)
        for risk in ("red", "green"):
            assert deadlines.decision_due_at(received, risk) > received


@pytest.mark.parametrize(
    "now, due, left",
    [
        (at(2026, 12, 2, 10, 0), at(2026, 12, 3, 10, 0), 24 * HOUR),
        (at(2026, 12, 4, 10, 0), at(2026, 12, 7, 10, 0), 24 * HOUR),  # the weekend does not count
        (at(2026, 12, 5, 12, 0), at(2026, 12, 7, 10, 0), 10 * HOUR),  # seen on Saturday
        (at(2026, 12, 24, 10, 0), at(2026, 12, 29, 10, 0), 24 * HOUR),  # Christmas does not count
        (at(2026, 12, 3, 10, 30), at(2026, 12, 3, 10, 0), -HOUR / 2),  # overdue
        (at(2026, 12, 8, 10, 0), at(2026, 12, 7, 10, 0), -24 * HOUR),
        (at(2026, 12, 8, 10, 0), at(2026, 12, 4, 10, 0), -48 * HOUR),  # overdue over a weekend
        (at(2026, 12, 29, 10, 0), at(2026, 12, 24, 10, 0), -24 * HOUR),
        (at(2026, 12, 3, 10, 0), at(2026, 12, 3, 10, 0), dt.timedelta(0)),
        (at(2026, 3, 27, 23, 0), at(2026, 3, 30, 1, 0), 2 * HOUR),  # across the spring clock change
        (at(2026, 10, 23, 23, 0), at(2026, 10, 26, 1, 0), 2 * HOUR),  # across the autumn clock change
    ],
)
def test_working_time_left(now, due, left):
    assert deadlines.working_time_left(now, due) == left


def test_one_working_day_is_always_24_working_hours():
    start = at(2026, 12, 17, 0, 0)
    for step in range(0, 24 * 21, 7):  # three weeks over Christmas, every 7 hours
        received = start + dt.timedelta(hours=step)
        due = deadlines.add_working_days(received, 1)
        assert deadlines.add_working_hours(received, 24) == due
        assert deadlines.working_time_left(received, due) == 24 * HOUR


def test_working_time_left_while_time_passes(settings):
    settings.REFERRAL_DECISION_HOURS = {"amber": 6}
    received = at(2026, 12, 4, 21, 0)  # Friday 21:00
    due = deadlines.decision_due_at(received, "amber")
    assert due == at(2026, 12, 7, 3, 0)
    with time_machine.travel(at(2026, 12, 6, 12, 0), tick=False):  # Sunday: the clock has stopped
        assert deadlines.working_time_left(timezone.now(), due) == 3 * HOUR
    with time_machine.travel(at(2026, 12, 7, 9, 0), tick=False):
        assert deadlines.working_time_left(timezone.now(), due) == -6 * HOUR


@pytest.mark.parametrize(
    "day, days, expected",
    [
        (dt.date(2026, 11, 25), 42, dt.date(2027, 1, 6)),  # a working Wednesday
        (dt.date(2026, 11, 13), 42, dt.date(2026, 12, 29)),  # lands on Christmas Day -> Tuesday 29th
        (dt.date(2026, 7, 20), 42, dt.date(2026, 9, 1)),  # lands on the summer bank holiday
        (dt.date(2026, 11, 23), 12, dt.date(2026, 12, 7)),  # lands on a Saturday -> Monday
        (dt.date(2027, 2, 12), 42, dt.date(2027, 3, 30)),  # lands on Good Friday 2027 -> Tuesday
        (dt.date(2026, 12, 2), 0, dt.date(2026, 12, 2)),
    ],
)
def test_review_due_after(day, days, expected):
    assert deadlines.review_due_after(day, days) == expected
