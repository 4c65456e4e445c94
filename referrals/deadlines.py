"""Working-day arithmetic for the hub's deadlines.

What counts as working time
---------------------------
A *working day* is a Monday to Friday that is not a bank holiday in England
and Wales (the ``holidays`` package, offline: nothing is downloaded at run
time). Saturdays, Sundays and bank holidays, substitute days included (a
Boxing Day that falls on a Saturday is observed on the Monday), are
non-working days.

Working time is the time that falls on working days, all 24 hours of them:
the clock stops over weekends and bank holidays, not overnight. Screening is
a safeguarding duty and the limits boroughs set for high-risk referrals
(red within 2 hours, say) are meant to run through the evening, so office
hours would be the wrong clock; but nobody expects the hub to decide on
Christmas Day, so the clock does stop then.

Every calculation is made in the project's time zone (Europe/London via
``django.utils.timezone``). British clocks change in the small hours of a
Sunday, so a working day is always exactly 24 hours long; durations are
still computed between UTC instants so that a span crossing a clock change
comes out right.

A referral that arrives on a non-working day is treated as arriving at the
start (00:00) of the next working day: the clock has not started yet.
"""

from __future__ import annotations

import datetime as dt
import functools

import holidays
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from partnerships.rules import Rules, rules_in_force

__all__ = [
    "add_working_days",
    "bank_holidays",
    "add_working_hours",
    "alert_at",
    "decision_due_at",
    "is_working_day",
    "next_working_day",
    "review_due_after",
    "working_time_left",
]

_DAY = dt.timedelta(days=1)


@functools.lru_cache(maxsize=64)
def _bank_holidays(year: int) -> frozenset[dt.date]:
    # One frozen set per year: cheap to look up and safe to share between
    # threads (a ``holidays`` object fills itself in lazily as it is asked).
    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=year))


def bank_holidays(year: int) -> frozenset[dt.date]:
    """England and Wales bank holidays of a year (for working time counted
    in the database: the monitoring's time to decision)."""
    return _bank_holidays(year)


def _as_date(day: dt.date | dt.datetime) -> dt.date:
    if isinstance(day, dt.datetime):
        return timezone.localtime(day).date() if timezone.is_aware(day) else day.date()
    return day


def is_working_day(day: dt.date | dt.datetime) -> bool:
    """Whether ``day`` is a working day: Monday to Friday and not an England
    and Wales bank holiday. An aware datetime is judged by its local date."""
    day = _as_date(day)
    return day.weekday() < 5 and day not in _bank_holidays(day.year)


def next_working_day(day: dt.date | dt.datetime) -> dt.date:
    """The first working day strictly after ``day``."""
    day = _as_date(day) + _DAY
    while not is_working_day(day):
        day += _DAY
    return day


def _local(moment: dt.datetime) -> dt.datetime:
    if not isinstance(moment, dt.datetime) or timezone.is_naive(moment):
        raise ValueError("Deadlines need a timezone-aware datetime")
    return timezone.localtime(moment)


def _start_of(day: dt.date) -> dt.datetime:
    """Local midnight at the start of ``day``, as an aware datetime."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _clock_start(moment: dt.datetime) -> dt.datetime:
    """When the working clock starts for something arriving at ``moment``:
    at once on a working day, else at the start of the next working day."""
    local = _local(moment)
    if is_working_day(local):
        return local
    return _start_of(next_working_day(local))


def add_working_days(start: dt.datetime, n: int) -> dt.datetime:
    """The same local time of day ``n`` working days after ``start``.

    ``start`` must be timezone-aware. If it falls on a non-working day the
    clock starts at 00:00 on the next working day, so Saturday 10:00 plus
    one working day is the end of Monday (00:00 on the next working day
    after it), and the time counted between the two is always ``n`` whole
    working days (see ``working_time_left``).
    """
    if n < 0:
        raise ValueError("n must not be negative")
    current = _clock_start(start)
    day = current.date()
    for _ in range(n):
        day = next_working_day(day)
    # Working days contain no clock change, so the wall-clock time exists
    # exactly once on the target day.
    return timezone.make_aware(dt.datetime.combine(day, current.time().replace(tzinfo=None)))


def add_working_hours(start: dt.datetime, hours: float) -> dt.datetime:
    """The moment ``hours`` working hours after ``start``.

    Working hours are hours that fall on working days: the clock runs round
    the clock on a working day and stops over weekends and bank holidays. A
    limit that runs out exactly at the end of a working day is carried to
    00:00 on the next working day, the same convention as
    ``add_working_days`` (so 24 working hours == 1 working day).
    """
    if hours < 0:
        raise ValueError("hours must not be negative")
    remaining = dt.timedelta(hours=hours)
    current = _clock_start(start)
    while True:
        end_of_day = _start_of(current.date() + _DAY)
        available = end_of_day.astimezone(dt.timezone.utc) - current.astimezone(dt.timezone.utc)
        if remaining < available:
            return timezone.localtime(current + remaining)
        remaining -= available
        current = _start_of(next_working_day(current.date()))


def decision_due_at(
    received_at: dt.datetime, risk_level: str, *, partnership=None, rules: Rules | None = None,
) -> dt.datetime:
    """When the hub's decision on a referral received at ``received_at`` is due.

    By default one working day after receipt: the same time of day on the
    next working day (a referral received on a non-working day is due at the
    end of the first working day after it).

    If the partnership's rules in force at ``received_at``
    (``partnerships.rules.rules_in_force``; ``rules`` when the caller has
    them already; with neither a partnership nor rules, the deployment's
    defaults from ``settings.REFERRAL_DECISION_HOURS``) name a limit for the
    risk level (e.g. red 2, amber 6, green 24), the decision is due that
    many *working hours* after receipt: hours on working days, round the
    clock, skipping weekends and bank holidays. So a red referral received at
    23:00 on a Friday with a 2-hour limit is due at 01:00 on Monday, not at
    01:00 on Saturday. A limit replaces the one-working-day default for that
    risk level whether it is shorter or longer.

    The rules are those in force when the referral was *received*: a change
    the partnership makes later never moves this deadline (it is stored on
    the referral, and computing it again gives the same answer).
    """
    if rules is None:
        rules = rules_in_force(partnership, received_at)
    hours = rules.decision_limit_hours(risk_level)
    if hours is None:
        return add_working_days(received_at, 1)
    if hours <= 0:
        raise ImproperlyConfigured(
            f"REFERRAL_DECISION_HOURS for {risk_level!r} must be a positive number of hours, not {hours!r}"
        )
    return add_working_hours(received_at, hours)


def alert_at(received_at: dt.datetime, due_at: dt.datetime, risk_level: str, *, rules: Rules) -> dt.datetime:
    """When the hub is alerted about a referral due at ``due_at``: the
    rules' lead time for the risk level before the deadline (at the deadline
    with none), never before the referral arrived."""
    return max(received_at, due_at - rules.alert_lead(risk_level))


def working_time_left(now: dt.datetime, due_at: dt.datetime) -> dt.timedelta:
    """Working time from ``now`` until ``due_at``, for the hub's "working time
    left" display; negative (the working time overdue) once ``due_at`` has
    passed. Time on non-working days is not counted either way, so a
    deadline at 10:00 on Monday seen at 10:00 on the Friday before has 24
    hours left, and the same deadline seen at 10:00 on Tuesday is 24 hours
    overdue.
    """
    start, end = _local(now), _local(due_at)
    sign = 1
    if end < start:
        start, end, sign = end, start, -1
    total = dt.timedelta(0)
    day = start.date()
    while day <= end.date():
        if is_working_day(day):
            lo = max(start, _start_of(day))
            hi = min(end, _start_of(day + _DAY))
            if hi > lo:
                total += hi.astimezone(dt.timezone.utc) - lo.astimezone(dt.timezone.utc)
        day += _DAY
    return total * sign


def review_due_after(day: dt.date | dt.datetime, days: int) -> dt.date:
    """The date a review falls due ``days`` calendar days after ``day``.

    Review intervals are set in calendar days (six weeks by default); a due
    date that lands on a weekend or bank holiday moves to the next working
    day, so a review is never due on a day the partners are not at work.
    """
    if days < 0:
        raise ValueError("days must not be negative")
    due = _as_date(day) + dt.timedelta(days=days)
    if not is_working_day(due):
        due = next_working_day(due)
    return due
