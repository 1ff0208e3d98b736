"""The planted truths of sets 1..N: every gold table's rows, and the counts of every source, computed from
the generator's events with plain Python (no Spark), the independent reference of the acceptance tests.

Values are written as the gold tables hold them, as text: timestamps ``YYYY-MM-DD HH:MM:SS`` (UTC),
decimals at their scale, booleans ``true``/``false``, NULL as ``None``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from medallion.pipelines.commerce.generator import (
    CENT,
    PHYSICAL_RANGE,
    UNKNOWN_CUSTOMER,
    WINDOW,
    DataSet,
    generate,
    ts,
)

FUNNEL_STEPS = ("page_view", "add_to_cart", "checkout", "purchase")


def parse(text: str) -> datetime:
    return datetime.fromisoformat(text)


def money(value: Decimal) -> str:
    return str(value.quantize(CENT, rounding=ROUND_HALF_UP))


def line_amount(row: Mapping) -> Decimal:
    discount = Decimal(str(row["discount_pct"]))
    amount = int(row["quantity"]) * Decimal(row["unit_price"]) * (1 - discount / 100)
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def manifest(set_numbers: Iterable[int], scale: int, seed: int, conf: Mapping) -> dict:
    sets = {n: generate(n, scale, seed, conf["first_day"]) for n in sorted(set_numbers)}
    sales = _sales(sets.values())
    history = _customer_history(sets.values())
    sessions = _sessions(sets.values())
    readings = _readings(sets.values())
    as_of = date.fromisoformat(conf["as_of_date"])
    faults: defaultdict[str, int] = defaultdict(int)
    for data in sets.values():
        for name, count in data.faults.items():
            faults[name] += count
    return {
        "sets": sorted(sets),
        "scale": scale,
        "seed": seed,
        "sources": dict(faults),
        "silver": {
            "sales": len(sales),
            "sales_unknown_customer": sum(r["customer_id"] == UNKNOWN_CUSTOMER for r in sales),
            "customers": len(history),
            "customers_current": sum(r["is_current"] == "true" for r in history),
            "clicks": sum(len(s) for s in sessions.values()),
            "iot_readings": len(readings),
            "iot_readings_valid": sum(r["valid"] for r in readings),
        },
        "customers_history": history,
        "gold": {
            "daily_sales": _daily_sales(sales),
            "customer_360": _customer_360(history, sales, sessions, as_of),
            "sessions": [_session_row(sid, events) for sid, events in sorted(sessions.items())],
            "funnel_daily": _funnel(sessions),
            "iot_5min": _iot_5min(readings),
            "iot_alerts": _iot_alerts(readings, conf),
        },
    }


# ------------------------------------------------------------------------------------------------ sales
def _sales(sets: Iterable[DataSet]) -> list[dict]:
    """One line per (order_id, order_line): the generator repeats lines only unchanged."""
    lines: dict[tuple, dict] = {}
    for data in sets:
        for row in data.sales_rows:
            lines.setdefault((row["order_id"], row["order_line"]), row)
    return list(lines.values())


def _daily_sales(sales: list[dict]) -> list[dict]:
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for row in sales:
        groups[(parse(row["order_ts"]).date().isoformat(), row["product_category"], row["channel"])].append(row)
    result = []
    for (day, category, channel), rows in sorted(groups.items()):
        completed = [r for r in rows if r["status"] == "completed"]
        result.append(
            {
                "sale_date": day,
                "product_category": category,
                "channel": channel,
                "orders": len({r["order_id"] for r in completed}),
                "units": sum(int(r["quantity"]) for r in completed),
                "revenue": money(sum((line_amount(r) for r in completed), Decimal(0))),
                "returns": len({r["order_id"] for r in rows if r["status"] == "returned"}),
            }
        )
    return result


# -------------------------------------------------------------------------------------------- customers
def _customer_history(sets: Iterable[DataSet]) -> list[dict]:
    """SCD2 rows: per customer, its distinct changes by updated_at; each upsert valid until the next change
    (a delete closes and adds no row)."""
    changes: dict[int, dict[str, dict]] = defaultdict(dict)
    for data in sets:
        for change in data.customer_changes:
            changes[change["customer_id"]].setdefault(change["updated_at"], change)
    rows = []
    for customer, by_time in sorted(changes.items()):
        ordered = [by_time[t] for t in sorted(by_time)]
        for i, change in enumerate(ordered):
            if change["op"] == "D":
                continue
            following = ordered[i + 1]["updated_at"] if i + 1 < len(ordered) else None
            rows.append(
                {
                    "customer_id": customer,
                    "city": change["city"],
                    "email_normalised": change["email"].strip().lower(),
                    "valid_from": ts(parse(change["updated_at"])),
                    "valid_to": ts(parse(following)) if following else None,
                    "is_current": "true" if following is None else "false",
                }
            )
    return rows


def _customer_360(history: list[dict], sales: list[dict], sessions: dict[str, list[dict]], as_of: date) -> list[dict]:
    since = datetime.combine(as_of - timedelta(days=30), datetime.min.time())
    result = []
    for row in (r for r in history if r["is_current"] == "true"):
        customer = row["customer_id"]
        completed = [s for s in sales if s["customer_id"] == customer and s["status"] == "completed"]
        days = sorted(parse(s["order_ts"]).date() for s in completed)
        recent = [
            sid
            for sid, events in sessions.items()
            if _customer_of(events) == customer and min(parse(e["event_ts"]) for e in events) >= since
        ]
        result.append(
            {
                "customer_id": customer,
                "city": row["city"],
                "lifetime_revenue": money(sum((line_amount(s) for s in completed), Decimal(0))),
                "orders": len({s["order_id"] for s in completed}),
                "first_order_date": days[0].isoformat() if days else None,
                "last_order_date": days[-1].isoformat() if days else None,
                "recency_days": (as_of - days[-1]).days if days else None,
                "sessions_30d": len(recent),
            }
        )
    return result


# ------------------------------------------------------------------------------------------- clickstream
def _sessions(sets: Iterable[DataSet]) -> dict[str, list[dict]]:
    sessions: dict[str, dict[str, dict]] = defaultdict(dict)
    for data in sets:
        for event in data.click_events:
            sessions[event["session_id"]].setdefault(event["event_id"], event)
    return {sid: list(events.values()) for sid, events in sessions.items()}


def _customer_of(events: list[dict]) -> int | None:
    known = [e["customer_id"] for e in events if e["customer_id"] is not None]
    return max(known) if known else None


def _session_row(session_id: str, events: list[dict]) -> dict:
    times = [parse(e["event_ts"]) for e in events]
    kinds = [e["event_type"] for e in events]
    return {
        "session_id": session_id,
        "customer_id": _customer_of(events),
        "start": ts(min(times)),
        "end": ts(max(times)),
        "duration_s": int((max(times) - min(times)).total_seconds()),
        "page_views": kinds.count("page_view"),
        "bounced": "true" if len(events) == 1 else "false",
        "converted": "true" if "purchase" in kinds else "false",
    }


def _funnel(sessions: dict[str, list[dict]]) -> list[dict]:
    days: dict[str, list[set]] = defaultdict(list)
    for events in sessions.values():
        start = min(parse(e["event_ts"]) for e in events)
        days[start.date().isoformat()].append({e["event_type"] for e in events})
    return [
        {
            "session_date": day,
            "sessions": len(kinds),
            **{f"{step}_sessions": sum(step in k for k in kinds) for step in FUNNEL_STEPS},
        }
        for day, kinds in sorted(days.items())
    ]


# ---------------------------------------------------------------------------------------------------- IoT
def is_valid(sensor: str, value: Decimal) -> bool:
    low, high = PHYSICAL_RANGE[sensor]
    return (low is None or value >= low) and (high is None or value <= high)


def _readings(sets: Iterable[DataSet]) -> list[dict]:
    unique: dict[tuple, dict] = {}
    for data in sets:
        for r in data.readings:
            unique.setdefault((r["device_id"], r["sensor_type"], r["event_ts"]), r)
    values = {key: Decimal(str(r["reading"])).quantize(CENT) for key, r in unique.items()}
    return [
        {**r, "value": values[key], "at": parse(r["event_ts"]), "valid": is_valid(r["sensor_type"], values[key])}
        for key, r in unique.items()
    ]


def _window_start(at: datetime) -> datetime:
    epoch = int(at.replace(tzinfo=None).timestamp() - datetime(1970, 1, 1).timestamp())
    return datetime(1970, 1, 1) + timedelta(seconds=epoch - epoch % WINDOW)


def average(values: list[Decimal]) -> Decimal:
    """As Spark averages DECIMAL(9,2): the exact mean at scale 6 (half up), then rounded to 4 places."""
    mean = (sum(values, Decimal(0)) / len(values)).quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)
    return mean.quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


def _windows(readings: list[dict]) -> dict[tuple, list[Decimal]]:
    windows: dict[tuple, list[Decimal]] = defaultdict(list)
    for r in readings:
        if r["valid"]:
            windows[(r["device_id"], r["sensor_type"], _window_start(r["at"]))].append(r["value"])
    return windows


def _iot_5min(readings: list[dict]) -> list[dict]:
    return [
        {
            "device_id": device,
            "sensor_type": sensor,
            "window_start": ts(start),
            "window_end": ts(start + timedelta(seconds=WINDOW)),
            "min_reading": str(min(values)),
            "avg_reading": str(average(values)),
            "max_reading": str(max(values)),
            "valid_readings": len(values),
        }
        for (device, sensor, start), values in sorted(_windows(readings).items())
    ]


def _iot_alerts(readings: list[dict], conf: Mapping) -> list[dict]:
    alerts = []
    thresholds = conf["iot_thresholds"]
    for (device, sensor, start), values in sorted(_windows(readings).items()):
        low, high = (Decimal(str(v)) for v in thresholds[sensor])
        mean = average(values)
        if mean < low or mean > high:
            alerts.append(
                {"device_id": device, "sensor_type": sensor, "alert": "threshold", "at": ts(start), "value": str(mean)}
            )
    silent = int(conf["silent_minutes"]) * 60
    by_device: dict[str, list[datetime]] = defaultdict(list)
    for r in readings:
        by_device[r["device_id"]].append(r["at"])
    for device, times in sorted(by_device.items()):
        times = sorted(set(times))
        for before, after in zip(times, times[1:]):
            gap = int((after - before).total_seconds())
            if gap > silent:
                alerts.append(
                    {
                        "device_id": device,
                        "sensor_type": "*",
                        "alert": "silent",
                        "at": ts(before),
                        "value": f"{gap}.0000",
                    }
                )
    return sorted(alerts, key=lambda a: (a["device_id"], a["sensor_type"], a["alert"], a["at"]))
