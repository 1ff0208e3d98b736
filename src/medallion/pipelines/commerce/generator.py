"""The seeded generator of the commerce sources, and the truths it plants, computed in plain Python.

Set N is day N (``first_day`` + N − 1): a sales CSV, a customer CDC extract (JSON lines) and the day's
clickstream and IoT messages. ``scale`` is the number of customers; the same (scale, seed, set) always
gives the same data. Planted faults, each counted in the manifest:

- sales: a line repeated in its file and again in the next day's file (duplicates), a completed line with
  quantity 0 and a line with a negative price (quarantined with their rule), an order of an unknown
  customer (kept, flagged), a line whose quantity is not a number (quarantined: ``parsed``), and from set
  2 on a second file whose header adds a column (``promo_code``): its lines are quarantined whole;
- customers: from set 2 on updates, a delete, a change listed before an earlier one, a change of an
  earlier day that arrives late (it lands between two stored versions), a repeated line, e-mails in
  mixed case with spaces;
- clickstream: a message sent twice, a message that is not JSON, an unknown event type, a session whose
  messages are sent in reverse order, a message sent after every other of the set (late), a session that
  crosses midnight, a bounce, a purchase without checkout;
- IoT: readings on the 5-minute boundaries, out-of-range readings, a hot window (threshold alert), a
  device silent for 20 minutes, a reading sent twice, one sent last (late), a message that is not JSON.

:func:`manifest` computes every gold table's rows from the same events with Python alone (no Spark).
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

CATEGORIES = ("books", "garden", "toys", "electronics")
CHANNELS = ("web", "store", "app")
CITIES = ("Oslo", "Bergen", "Lyon", "Porto", "Turin", "Gdansk")
SALES_COLUMNS = (
    "order_id",
    "order_line",
    "order_ts",
    "customer_id",
    "product_id",
    "product_category",
    "quantity",
    "unit_price",
    "discount_pct",
    "currency",
    "channel",
    "store_id",
    "status",
)
UNKNOWN_CUSTOMER = 99_999
DEVICES = {
    "dev-1": ("temperature", "humidity"),
    "dev-2": ("vibration", "pressure"),
    "dev-3": ("temperature", "pressure"),
}
BASE_READING = {
    "temperature": Decimal("21.0"),
    "humidity": Decimal("45.0"),
    "vibration": Decimal("3.0"),
    "pressure": Decimal("1000.0"),
}
PHYSICAL_RANGE = {
    "temperature": (Decimal(-40), Decimal(125)),
    "humidity": (Decimal(0), Decimal(100)),
    "vibration": (Decimal(0), None),
    "pressure": (Decimal(300), Decimal(1100)),
}
IOT_MINUTES = 30  # readings each minute from 12:00 of the set's day
SILENT_DEVICE, SILENT_FROM, SILENT_TO = "dev-3", 6, 25  # dev-3 sends nothing in minutes 6..25 (20 min)
CENT, WINDOW = Decimal("0.01"), 300


@dataclass
class DataSet:
    """One set's sources: file lines and Kafka messages (key, value bytes) in the order they are sent."""

    sales_csv: str = ""
    sales_extra_csv: str | None = None
    customers_json: str = ""
    clicks: list[tuple[bytes, bytes]] = field(default_factory=list)
    iot: list[tuple[bytes, bytes]] = field(default_factory=list)
    # what Python keeps for the manifest
    sales_rows: list[dict] = field(default_factory=list)
    customer_changes: list[dict] = field(default_factory=list)
    click_events: list[dict] = field(default_factory=list)
    readings: list[dict] = field(default_factory=list)
    faults: dict[str, int] = field(default_factory=dict)


def day_of(first_day: str, set_number: int) -> date:
    return date.fromisoformat(first_day) + timedelta(days=set_number - 1)


def ts(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S")


def rng_for(seed: int, set_number: int, source: str) -> random.Random:
    """One random stream per (seed, set, source): a set can be regenerated alone (e.g. the previous day's
    line a later file repeats), and changing one source never shifts another."""
    return random.Random(f"{seed}/{set_number}/{source}")


def generate(set_number: int, scale: int, seed: int, first_day: str) -> DataSet:
    if set_number < 1 or scale < 6:
        raise ValueError("commerce: --set starts at 1 and --scale (customers) is at least 6")
    day = day_of(first_day, set_number)
    data = DataSet()
    _sales(data, set_number, day, scale, seed)
    _customers(data, set_number, day, scale, rng_for(seed, set_number, "customers"))
    _clicks(data, set_number, day, scale)
    _iot(data, set_number, day, rng_for(seed, set_number, "iot"))
    return data


# ------------------------------------------------------------------------------------------------ sales
def _sales_line(order_id: int, line: int, when: datetime, customer: int, rng: random.Random, status: str) -> dict:
    channel = CHANNELS[order_id % 3]
    return {
        "order_id": order_id,
        "order_line": line,
        "order_ts": when.strftime("%Y-%m-%dT%H:%M:%S"),
        "customer_id": customer,
        "product_id": f"p-{rng.randint(1, 40)}",
        "product_category": CATEGORIES[(order_id + line) % len(CATEGORIES)],
        "quantity": rng.randint(1, 4),
        "unit_price": str(Decimal(rng.randint(199, 9999)) / 100),
        "discount_pct": ("0", "10", "12.5")[line % 3],
        "currency": "EUR",
        "channel": channel,
        "store_id": f"st-{order_id % 4}" if channel == "store" else "",
        "status": status,
    }


def _csv(rows: list[dict], columns=SALES_COLUMNS) -> str:
    return "".join(",".join(str(r[c]) for c in columns) + "\n" for r in rows)


def sales_lines(n: int, day: date, scale: int, seed: int) -> list[dict]:
    """The day's order lines; the first two break a rule (quantity 0 on a completed order, a negative price)."""
    rng = rng_for(seed, n, "sales")
    rows = []
    for k in range(scale // 2 + 3):
        order_id = n * 1_000 + k
        status = "returned" if k % 7 == 3 else "cancelled" if k % 11 == 5 else "completed"
        customer = UNKNOWN_CUSTOMER if k == 2 else 1 + (k * 5 + n) % scale
        when = datetime(day.year, day.month, day.day, 9) + timedelta(minutes=7 * k)
        rows += [_sales_line(order_id, line, when, customer, rng, status) for line in range(1, 2 + k % 3)]
    rows[0]["status"], rows[0]["quantity"] = "completed", 0
    rows[1]["unit_price"] = "-5.00"
    return rows


def _sales(data: DataSet, n: int, day: date, scale: int, seed: int) -> None:
    rows = sales_lines(n, day, scale, seed)
    valid = rows[2:]
    repeated = [valid[0]]  # the same line twice in one file
    if n > 1:  # and the previous day's first valid line delivered again
        repeated.append(sales_lines(n - 1, day - timedelta(days=1), scale, seed)[2])
    bad_line = f"{n * 1_000 + 900},1,{day}T18:00:00,1,p-1,toys,many,1.00,0,EUR,web,,completed\n"
    data.sales_csv = ",".join(SALES_COLUMNS) + "\n" + _csv(rows + repeated) + bad_line
    data.sales_rows = valid
    data.faults.update(sales_lines=len(rows) + len(repeated) + 1, sales_quarantined=3, sales_duplicates=len(repeated))
    if n >= 2:
        rng = rng_for(seed, n, "sales-extra")
        extra = [
            dict(
                _sales_line(n * 1_000 + 950 + k, 1, datetime(day.year, day.month, day.day, 20), 1, rng, "completed"),
                promo_code="WINTER",
            )
            for k in range(2)
        ]
        columns = (*SALES_COLUMNS, "promo_code")
        data.sales_extra_csv = ",".join(columns) + "\n" + _csv(extra, columns)
        data.faults.update(sales_lines=data.faults["sales_lines"] + 2, sales_quarantined=5)


# -------------------------------------------------------------------------------------------- customers
def _customer(customer_id: int, when: datetime, op: str, city: str, email: str) -> dict:
    return {
        "customer_id": customer_id,
        "first_name": f"First{customer_id}",
        "last_name": f"Last{customer_id}",
        "email": email,
        "phone": f"+47 400 {customer_id:05d}",
        "address": f"{customer_id} Main Street",
        "city": city,
        "state": "",
        "country": "NO",
        "postal_code": f"{1000 + customer_id}",
        "birth_date": f"{1960 + customer_id % 40}-0{1 + customer_id % 9}-15",
        "signup_ts": "2025-06-01T10:00:00",
        "segment": ("gold", "silver", "bronze")[customer_id % 3],
        "op": op,
        "updated_at": when.strftime("%Y-%m-%dT%H:%M:%S"),
    }


def _customers(data: DataSet, n: int, day: date, scale: int, rng: random.Random) -> None:
    at = lambda hour, minute=0, d=day: datetime(d.year, d.month, d.day, hour, minute)  # noqa: E731
    if n == 1:
        changes = [
            _customer(c, at(8, c), "I", CITIES[c % len(CITIES)], f"  Customer{c}@Example.COM ")
            for c in range(1, scale + 1)
        ]
        sent = changes
    else:
        moved, ordered, deleted = 1 + n % scale, 1 + (n + 2) % scale, 1 + (n + 4) % scale
        late = 1 + (n + 1) % scale
        later_first = _customer(ordered, at(15), "U", rng.choice(CITIES), f"c{ordered}.new@example.com")
        earlier = _customer(ordered, at(10), "U", rng.choice(CITIES), f"C{ordered}@example.com")
        changes = [
            _customer(moved, at(9), "U", rng.choice(CITIES), f"Customer{moved}@Example.com"),
            later_first,
            earlier,  # listed before the change that happened first
            _customer(deleted, at(11), "D", "", ""),
            # happened yesterday at 12:00, between yesterday's changes and today's: arrives a day late
            _customer(late, at(12, 0, day - timedelta(days=1)), "U", rng.choice(CITIES), f"late{late}@example.com"),
        ]
        sent = changes + [changes[0]]  # a line delivered twice
        data.faults["customers_duplicates"] = 1
    data.customers_json = "".join(json.dumps(c) + "\n" for c in sent)
    data.customer_changes = changes
    data.faults["customer_lines"] = len(sent)


# ------------------------------------------------------------------------------------------- clickstream
SESSION_SHAPES = (
    ("page_view",),
    ("page_view", "page_view", "page_view"),
    ("page_view", "add_to_cart", "remove_from_cart"),
    ("page_view", "add_to_cart", "checkout"),
    ("page_view", "add_to_cart", "checkout", "purchase"),
)


def _event(n: int, session: str, i: int, kind: str, when: datetime, customer: int | None) -> dict:
    return {
        "event_id": f"e-{session}-{i}",
        "session_id": session,
        "customer_id": customer,
        "event_type": kind,
        "page_url": f"/p/{i}",
        "referrer": "search" if i == 0 else None,
        "product_id": f"p-{i + n}",
        "device": ("mobile", "desktop")[i % 2],
        "browser": "firefox",
        "ip": f"10.0.{n}.{i}",
        "event_ts": when.strftime("%Y-%m-%dT%H:%M:%S"),
    }


def _clicks(data: DataSet, n: int, day: date, scale: int) -> None:
    start = datetime(day.year, day.month, day.day, 10)
    sessions: list[list[dict]] = []
    for j in range(scale // 2 + 3):
        session, customer = f"s{n}-{j}", (None if j % 3 == 0 else 1 + (j + n) % scale)
        shape = SESSION_SHAPES[j % len(SESSION_SHAPES)]
        sessions.append(
            [
                _event(n, session, i, kind, start + timedelta(minutes=10 * j, seconds=45 * i), customer)
                for i, kind in enumerate(shape)
            ]
        )
    midnight = datetime(day.year, day.month, day.day, 23, 55)
    sessions.append(
        [
            _event(n, f"s{n}-night", i, kind, midnight + timedelta(minutes=offset), 1 + n % scale)
            for i, (kind, offset) in enumerate((("page_view", 0), ("add_to_cart", 3), ("purchase", 9)))
        ]
    )
    events = [e for s in sessions for e in s]
    sessions[2].reverse()  # sent newest first
    late = sessions[1].pop(0)  # sent after everything else of the set
    order = [e for s in sessions for e in s]
    unknown = dict(_event(n, f"s{n}-0", 9, "hover", start, None))
    messages = [(e["session_id"].encode(), json.dumps(e).encode()) for e in order]
    messages.insert(3, messages[0])  # sent twice
    messages.insert(5, (f"s{n}-0".encode(), b'{"event_id": "broken'))
    messages.insert(7, (unknown["session_id"].encode(), json.dumps(unknown).encode()))
    messages.append((late["session_id"].encode(), json.dumps(late).encode()))
    data.clicks, data.click_events = messages, events
    data.faults.update(click_messages=len(messages), click_duplicates=1, click_quarantined=2)


# ---------------------------------------------------------------------------------------------------- IoT
def _reading(device: str, sensor: str, when: datetime, value: Decimal) -> dict:
    return {
        "device_id": device,
        "sensor_type": sensor,
        "reading": float(value),
        "unit": sensor[:4],
        "battery_pct": 80,
        "lat": 59.9,
        "lon": 10.7,
        "event_ts": when.strftime("%Y-%m-%dT%H:%M:%S"),
    }


def _iot(data: DataSet, n: int, day: date, rng: random.Random) -> None:
    noon = datetime(day.year, day.month, day.day, 12)
    readings = []
    for minute in range(IOT_MINUTES):
        for device, sensors in DEVICES.items():
            if device == SILENT_DEVICE and SILENT_FROM <= minute < SILENT_TO:
                continue
            for sensor in sensors:
                value = BASE_READING[sensor] + Decimal(rng.randint(-6, 6)) / 2
                if device == "dev-1" and sensor == "temperature" and 10 <= minute < 15:
                    value += 70  # a hot window: average above the alert threshold
                readings.append(_reading(device, sensor, noon + timedelta(minutes=minute), value))
    readings[4]["reading"] = 150.0  # dev-3's temperature at 12:00, above its physical range
    readings[13]["reading"] = -3.5  # dev-1's humidity at 12:02, below its physical range
    late = readings.pop(20)
    order = readings[:]
    order[30:36] = reversed(order[30:36])  # out of order
    messages = [(r["device_id"].encode(), json.dumps(r).encode()) for r in order]
    messages.insert(8, messages[8])  # sent twice
    messages.insert(12, (b"dev-2", b"\xff\xfe not json"))
    messages.append((late["device_id"].encode(), json.dumps(late).encode()))
    data.iot, data.readings = messages, readings + [late]
    data.faults.update(iot_messages=len(messages), iot_duplicates=1, iot_quarantined=1)
