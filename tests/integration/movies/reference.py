"""The spec of the movies pipeline computed in plain Python from the generated files: what the tables
must hold. Independent of the pipeline's code: CSV by Python's csv module, XML by ElementTree, the
classification by str.split(). Only the generator (the input) and the stop-word list are shared."""

from __future__ import annotations

import csv
import io
import re
import xml.etree.ElementTree as ET
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from medallion.pipelines.movies.classification import english_stop_words
from medallion.pipelines.movies.generator import DayFiles, logs_csv, reviews_csv

BROWSER = {
    "Microsoft Windows": "Edge",
    "Linux": "Firefox",
    "Apple MacOS": "Safari",
    "Apple iOS": "Safari",
    "Google Android": "Chrome",
}
DEVICES = {"Mobile", "Computer", "Tablet"}
ELEMENTS = ("logDate", "device", "location", "os", "ipAddress", "phoneNumber")
DIMENSIONS = {
    "dim_date": "log_date",
    "dim_devices": "device",
    "dim_location": "location",
    "dim_os": "os",
    "dim_browser": "browser",
}


def positive(text: str) -> int:
    tokens = re.sub(r"(?i)<br\s*/?>", " ", text).lower().split()
    return int("good" in [t for t in tokens if t not in set(english_stop_words())])


def parsed_lines(text: str, width: int) -> list[list]:
    """Data rows of a vendor CSV; a row whose ints do not parse is None (bronze quarantines it)."""
    rows = list(csv.reader(io.StringIO(text)))[1:]
    result = []
    for fields in rows:
        try:
            result.append([int(fields[0]), *fields[1:]] if width == 2 else [int(fields[0]), fields[1], int(fields[2])])
        except ValueError:
            result.append(None)
    return result


def session(log: str) -> tuple[dict | None, list[str]]:
    """(fields, broken rules) of a log."""
    try:
        root = ET.fromstring(log)
    except ET.ParseError:
        return None, ["log_is_well_formed_xml"]
    entry = root.find("log") if root.tag == "reviewlog" else None
    if entry is None:
        return None, ["log_is_well_formed_xml"]
    values = {name: (entry.findtext(name) or "").strip() or None for name in ELEMENTS}
    rules = [
        f"{column}_present"
        for column, name in (
            ("log_date", "logDate"),
            ("device", "device"),
            ("location", "location"),
            ("os", "os"),
            ("ip", "ipAddress"),
            ("phone_number", "phoneNumber"),
        )
        if values[name] is None
    ]
    if values["device"] and values["device"] not in DEVICES:
        rules.append("known_device")
    if values["os"] and values["os"] not in BROWSER:
        rules.append("known_os")
    log_date = None
    if values["logDate"]:
        try:
            log_date = datetime.strptime(values["logDate"], "%m-%d-%Y").date()
        except ValueError:
            rules.append("log_date_valid")
    fields = {
        "log_date": log_date,
        "device": values["device"],
        "location": values["location"],
        "os": values["os"],
        "browser": BROWSER.get(values["os"] or ""),
    }
    return fields, rules


@dataclass
class Expected:
    """What the tables must hold after the days given so far."""

    known_customers: set[int]
    purchases: list[tuple]  # (customer_id, quantity, unit_price) of the loaded purchase rows
    seen_reviews: set[int] = field(default_factory=set)
    seen_logs: set[int] = field(default_factory=set)
    reviews: dict[int, tuple[int, int]] = field(default_factory=dict)  # review_id → (customer_id, positive)
    logs: dict[int, dict] = field(default_factory=dict)  # log_id → fields
    quarantined: Counter = field(default_factory=Counter)  # (table, rules tuple) → rows
    keys: dict[str, dict] = field(default_factory=lambda: {name: {} for name in DIMENSIONS})

    def add_day(self, files: DayFiles) -> None:
        for row in parsed_lines(reviews_csv(files), 3):
            if row is None:
                self.quarantined[("movie_review_bz", ("parsed",))] += 1
                continue
            cid, text, review_id = row
            rules = []
            if review_id in self.seen_reviews:
                rules.append("unique_review_id")
            if cid not in self.known_customers:
                rules.append("known_customer")
            self.seen_reviews.add(review_id)
            if rules:
                self.quarantined[("classified_movie_review", tuple(rules))] += 1
            else:
                self.reviews[review_id] = (cid, positive(text))
        for row in parsed_lines(logs_csv(files), 2):
            if row is None:
                self.quarantined[("log_reviews_bz", ("parsed",))] += 1
                continue
            log_id, log = row
            fields, rules = session(log)
            claims = not rules  # a log quarantined for what it holds leaves its id to a corrected resend
            if log_id in self.seen_logs:
                rules.append("unique_log_id")
            if claims:
                self.seen_logs.add(log_id)
            if rules:
                self.quarantined[("review_logs", tuple(rules))] += 1
            else:
                self.logs[log_id] = fields
        self._number_new_values()

    def add_purchases(self, csv_text: str) -> None:
        for row in csv.DictReader(io.StringIO(csv_text)):
            if row["CustomerID"]:
                customer = int(float(row["CustomerID"]))
                self.known_customers.add(customer)
                self.purchases.append((customer, int(row["Quantity"]), Decimal(row["UnitPrice"])))

    def _number_new_values(self) -> None:
        for table, column in DIMENSIONS.items():
            keys = self.keys[table]
            new = sorted({fields[column] for fields in self.logs.values()} - keys.keys())
            for offset, value in enumerate(new, start=len(keys) + 1):
                keys[value] = offset

    def spend(self) -> dict[int, Decimal]:
        totals: dict[int, Decimal] = defaultdict(Decimal)
        for customer, quantity, price in self.purchases:
            if quantity > 0 and price > 0:
                totals[customer] += quantity * price
        return totals

    def fact(self) -> set[tuple]:
        """(customer_id, id_dim_date, id_dim_devices, id_dim_location, id_dim_os, id_dim_browser,
        amount_spent, review_score, review_count) per row."""
        groups: dict[tuple, list[int]] = defaultdict(list)
        for review_id, (customer, is_positive) in self.reviews.items():
            if review_id in self.logs:
                fields = self.logs[review_id]
                key = (customer, *(self.keys[table][fields[column]] for table, column in DIMENSIONS.items()))
                groups[key].append(is_positive)
        spend = self.spend()
        return {
            (*key, spend.get(key[0], Decimal(0)).quantize(Decimal("0.00001")), sum(p), len(p))
            for key, p in groups.items()
        }

    def review_counts(self, column: str, where=lambda fields: True) -> Counter:
        """Reviews (with a session) per value of a log column, for the sessions ``where`` accepts."""
        counts: Counter = Counter()
        for review_id in self.reviews:
            fields = self.logs.get(review_id)
            if fields and where(fields):
                counts[fields[column]] += 1
        return counts
