"""A seeded generator of platform and business events, with planted truths the tests can find again.

The same ``(scale, seed, planted)`` always gives the same events. ``scale`` is the number of users; each
takes part in each test of the seed database with a fixed probability, is assigned one variation, and
is exposed to it one or more times. After the first exposure a user browses (0 to 6 events within two
days) and may convert: a ``/checkout`` view and a ``purchase`` on ``/purchase`` with revenue.

Planted (``planted=True``; a no-effect data set has neither of the first two):
- a lift in conversion: T001 variation B converts at 10 % + 10 points, against 10 % everywhere else;
- a sample-ratio mismatch: T002 assigns 60/40 although its intended split is 50/50;
and always:
- contaminated users: 2 % of a test's users are also exposed to another variation of it;
- duplicates: 1.5 % of the events are sent twice (same event_id and content, same arrival day);
- late events: 3 % of the events arrive 1 to 3 days after their own day;
- malformed records: a few lines that are not JSON.

Events arrive in daily exports: ``arrival_date`` is the day an event arrived (the landing folder's
partition), equal to the event's own date unless it is late.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from medallion.pipelines.experiments.operational import TESTS

DATA_END = datetime(2024, 3, 20)
SESSION_HOURS = 48
PARTICIPATION = 0.6
BASE_CONVERSION = 0.10
PLANTED_LIFT: dict[str, Any] = {"test_code": "T001", "variation": "B", "metric_code": "M003", "added_conversion": 0.10}
PLANTED_SRM: dict[str, Any] = {"test_code": "T002", "assignment_shares": {"A": 0.6, "B": 0.4}}
CONTAMINATION = 0.02
DUPLICATE_SHARE = 0.015
LATE_SHARE = 0.03
MALFORMED = {"platform_events": 1, "business_events": 2}
NO_EVENTS_SHARE = 0.15
BROWSING = (("screen_view", 0.45), ("click", 0.30), ("scroll", 0.15), ("add_to_cart", 0.10))
PATHS = ("/home", "/search", "/product", "/cart", "/account")
DEVICES = ("ios", "android", "web")


@dataclass
class GeneratedEvents:
    platform_events: list[dict] = field(default_factory=list)
    business_events: list[dict] = field(default_factory=list)
    malformed: dict[str, list[tuple[date, str]]] = field(default_factory=dict)
    manifest: dict = field(default_factory=dict)


def variations(count: int) -> list[str]:
    """Variation names of a test with ``count`` variations: A (the control), B, C…"""
    return [chr(ord("A") + i) for i in range(count)]


def generate(scale: int, seed: int, planted: bool = True) -> GeneratedEvents:
    if scale < 1:
        raise ValueError("scale is the number of users: at least 1")
    rng = random.Random(seed)
    out = GeneratedEvents()
    tests = {code: {"users": 0, "variations": {}, "contaminated_users": 0} for code, *_ in TESTS}
    for number in range(1, scale + 1):
        user_id = f"u{number:06d}"
        for test in TESTS:
            if rng.random() < PARTICIPATION:
                _take_part(rng, out, tests, user_id, test, planted)
    duplicates = {name: _duplicate(rng, getattr(out, name)) for name in ("platform_events", "business_events")}
    late = {name: _make_late(rng, getattr(out, name)) for name in ("platform_events", "business_events")}
    out.malformed = {name: _malformed(rng, name, count) for name, count in MALFORMED.items()}
    out.manifest = {
        "scale": scale,
        "seed": seed,
        "planted_effects": planted,
        "lift": {**PLANTED_LIFT, "base_conversion": BASE_CONVERSION} if planted else None,
        "sample_ratio_mismatch": {**PLANTED_SRM, "intended_shares": {"A": 0.5, "B": 0.5}} if planted else None,
        "tests": tests,
        "duplicates": duplicates,
        "late_events": late,
        "malformed_records": {name: len(lines) for name, lines in out.malformed.items()},
        "rows": {"platform_events": len(out.platform_events), "business_events": len(out.business_events)},
    }
    return out


def _take_part(rng: random.Random, out: GeneratedEvents, tests: dict, user_id: str, test: tuple, planted: bool) -> None:
    code, _, _, _, started, finished, _, variation_count, _ = test
    names = variations(variation_count)
    shares = PLANTED_SRM["assignment_shares"] if planted and code == PLANTED_SRM["test_code"] else None
    variation = rng.choices(names, weights=[shares[n] for n in names] if shares else None)[0]
    window_end = min(finished or DATA_END, DATA_END) - timedelta(hours=SESSION_HOURS)
    exposed = _at(started + (window_end - started) * rng.random())
    summary = tests[code]
    summary["users"] += 1
    summary["variations"][variation] = summary["variations"].get(variation, 0) + 1

    def platform(event_type: str, when: datetime, seen: str) -> None:
        out.platform_events.append(
            {
                "event_id": f"pe-{len(out.platform_events) + 1:07d}",
                "user_id": user_id,
                "test_code": code,
                "variation": seen,
                "event_time": when,
                "event_type": event_type,
            }
        )

    platform("assignment", exposed - timedelta(seconds=rng.randint(1, 600)), variation)
    platform("exposure", exposed, variation)
    for _ in range(rng.randint(0, 2)):
        platform("exposure", _at(exposed + timedelta(hours=36 * rng.random())), variation)
    if rng.random() < CONTAMINATION:
        other = rng.choice([n for n in names if n != variation])
        platform("exposure", _at(exposed + timedelta(hours=1 + 23 * rng.random())), other)
        summary["contaminated_users"] += 1
    _browse(rng, out, user_id, exposed, _conversion(code, variation, planted))


def _conversion(code: str, variation: str, planted: bool) -> float:
    lifted = planted and (code, variation) == (PLANTED_LIFT["test_code"], PLANTED_LIFT["variation"])
    return BASE_CONVERSION + (PLANTED_LIFT["added_conversion"] if lifted else 0.0)


def _browse(rng: random.Random, out: GeneratedEvents, user_id: str, exposed: datetime, conversion: float) -> None:
    device = rng.choice(DEVICES)

    def business(name: str, when: datetime, path: str, revenue: float | None = None) -> None:
        out.business_events.append(
            {
                "event_id": f"be-{len(out.business_events) + 1:07d}",
                "user_id": user_id,
                "event_time": when,
                "event_name": name,
                "event_path": path,
                "event_device": device,
                "revenue": revenue,
            }
        )

    count = 0 if rng.random() < NO_EVENTS_SHARE else rng.randint(1, 6)
    offsets = sorted(rng.uniform(0, SESSION_HOURS - 2) for _ in range(count))
    names, weights = [name for name, _ in BROWSING], [weight for _, weight in BROWSING]
    for offset in offsets:
        business(rng.choices(names, weights)[0], _at(exposed + timedelta(hours=offset)), rng.choice(PATHS))
    if count and rng.random() < conversion:
        last = exposed + timedelta(hours=offsets[-1])
        business("screen_view", _at(last + timedelta(minutes=rng.randint(1, 30))), "/checkout")
        business(
            "purchase", _at(last + timedelta(minutes=rng.randint(31, 60))), "/purchase", round(rng.uniform(20, 120), 2)
        )


def _duplicate(rng: random.Random, events: list[dict]) -> int:
    chosen = rng.sample(range(len(events)), round(len(events) * DUPLICATE_SHARE))
    events.extend(dict(events[i]) for i in sorted(chosen))
    return len(chosen)


def _make_late(rng: random.Random, events: list[dict]) -> int:
    """Originals only: a late event arrives 1 to 3 days after its own day (its duplicates with it)."""
    originals: dict[str, list[dict]] = {}
    for event in events:
        originals.setdefault(event["event_id"], []).append(event)
    late = set(rng.sample(sorted(originals), round(len(originals) * LATE_SHARE)))
    for event_id, copies in originals.items():
        arrival = copies[0]["event_time"].date() + timedelta(days=rng.randint(1, 3) if event_id in late else 0)
        for event in copies:
            event["arrival_date"] = arrival
    return len(late)


def _malformed(rng: random.Random, name: str, count: int) -> list[tuple[date, str]]:
    days = [(DATA_END - timedelta(days=d)).date() for d in range(1, 15)]
    return [(rng.choice(days), f'{{"event_id": "{name[:2]}-broken-{i}", "user_id": ') for i in range(1, count + 1)]


def _at(moment: datetime) -> datetime:
    return moment.replace(microsecond=0)
