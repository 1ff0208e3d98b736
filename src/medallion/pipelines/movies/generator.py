"""Seeded generators: the vendor's daily review and session-log files, and purchases in the Online Retail layout.

Everything is a pure function of (seed, day, scale), so a day's files are the same every time they are
produced and tests can compute the expected tables from the same records.

Day N (1, 2, …) is the calendar date ``start_date + N - 1``. Its ``reviews_per_day`` reviews get the ids
``(N-1)·reviews_per_day + 1 …`` and customers drawn from the purchase customers. Review texts mix
sentences with the exact word "good" (any case, next to ``<br />`` tags), look-alikes that are not the
token ``good`` ("not good.", "goodness", "good,", "Goodfellas"), punctuation, quotes, commas and the odd
line break. A session log is the spec's XML with the five OS values, three devices, US states (California,
New York and Texas more often), IPv4 addresses and phone numbers; its logDate is the day or the day before.

With ``bad_records`` every day also carries one of each defect (``DayFiles.defects`` names the ids):
- ``malformed_xml``: a log that is not well-formed XML (truncated, mismatched tags or a bare ``&``);
- ``missing_element``: a log without one of its six elements (a different one each day);
- ``unknown_customer``: a review by a customer who has no purchases;
- ``review_without_log``: a review whose log line is missing;
- ``duplicate_review``: a second review line with an id already used (this file or the day before), and
  a second log line with that id;
- ``unparseable_row``: a review line and a log line whose id is not a number.
"""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from medallion.pipelines.movies.session_log import US_STATES

STATES = US_STATES
FREQUENT_STATES = ("California", "New York", "Texas")
OPERATING_SYSTEMS = ("Microsoft Windows", "Linux", "Apple MacOS", "Apple iOS", "Google Android")
DEVICES = ("Mobile", "Computer", "Tablet")
LOG_ELEMENTS = ("logDate", "device", "location", "os", "ipAddress", "phoneNumber")
REVIEW_HEADER = ("cid", "review_str", "id_review")
LOG_HEADER = ("id_review", "log")
PURCHASE_HEADER = (
    "InvoiceNo",
    "StockCode",
    "Description",
    "Quantity",
    "InvoiceDate",
    "UnitPrice",
    "CustomerID",
    "Country",
)
DEFECTS = (
    "malformed_xml",
    "missing_element",
    "unknown_customer",
    "review_without_log",
    "duplicate_review",
    "unparseable_row",
)
UNPARSEABLE_ID = "x{day}"

WITH_GOOD = (
    "It was a good movie.",
    "Good acting all around.",
    "The soundtrack is really good and memorable.",
    "GOOD fun for the whole family!",
    "Honestly good<br /><br />",
    "A good, solid good story.",
    "good",
    "The first hour is good but the rest drags.",
    "Good<br />Great ending too.",
    'Surprisingly good, "smart" and funny.',
)
LOOKALIKES = (
    "The plot was not good.",
    "Goodness, what a mess!",
    "It was good, but too long.",
    "Was it good? No.",
    "Goodbye to two hours of my life.",
    "Goodfellas is better.",
    "The so-good-it's-bad kind of film.",
    '"good" is not the word.',
    "Good-looking cast, dull script.",
    "(good) moments are rare.",
    "Not GOOD.<br /><br />",
    "goodness gracious.",
)
NEUTRAL = (
    "I watched this movie last night.",
    "My friends recommended it to me.",
    "The pacing drags in the second act.",
    "Terrible dialogue; wooden performances.",
    "The cinematography is stunning!",
    "I loved the ending.",
    "What a waste of time...",
    "The director's cut runs 3 hours.",
    "Bad, bad, bad.",
    "Great visuals<br /><br />but a thin story.",
    "Best film of the year, hands down!",
    "10/10 would watch again.",
    "Part one was slow.\nPart two was worse.",
    "The lead actor (in his first role) steals every scene.",
    "Two stars: one for the music, one for the popcorn.",
)
PRODUCTS = (
    "WHITE HANGING HEART T-LIGHT HOLDER",
    "WHITE METAL LANTERN",
    "CREAM CUPID HEARTS COAT HANGER",
    "KNITTED UNION FLAG HOT WATER BOTTLE",
    "SET 7 BABUSHKA NESTING BOXES",
    "GLASS STAR FROSTED T-LIGHT HOLDER",
    "HAND WARMER UNION JACK",
    "ASSORTED COLOUR BIRD ORNAMENT",
    "POPPY'S PLAYHOUSE BEDROOM ",
    "JAM MAKING SET WITH JARS",
    "RED COAT RACK PARIS FASHION",
    "ALARM CLOCK BAKELIKE PINK",
    "PANDA AND BUNNIES STICKER SHEET",
    "SET/2 RED RETROSPOT TEA TOWELS ",
    "LUNCH BOX I LOVE LONDON",
    "ROUND SNACK BOXES SET OF4 WOODLAND ",
    "DOORMAT NEW ENGLAND",
    "RECIPE BOX WITH METAL HEART",
)
COUNTRIES = ("United Kingdom",) * 8 + ("France", "Germany", "EIRE", "Spain", "Netherlands")


@dataclass(frozen=True)
class ReviewLine:
    cid: str
    review_str: str
    id_review: str


@dataclass(frozen=True)
class LogLine:
    id_review: str
    log: str


@dataclass
class DayFiles:
    """One day of vendor files, as the lines that will be written (text, exactly as in the CSV)."""

    day: int
    date: date
    reviews: list[ReviewLine] = field(default_factory=list)
    logs: list[LogLine] = field(default_factory=list)
    defects: dict[str, list[str]] = field(default_factory=dict)  # defect → ids (as written) carrying it


# ------------------------------------------------------------------------------------------ purchases
def purchase_customers(seed: int, customers: int) -> list[int]:
    """The customer ids of the generated purchases (within the Online Retail range 12346-18287)."""
    return sorted(random.Random(f"customers-{seed}").sample(range(12346, 18288), customers))


def purchase_rows(seed: int, customers: int, rows: int) -> list[tuple[str, ...]]:
    """Purchase lines in the Online Retail layout: invoices of 1-8 lines (every customer has at least one
    invoice; of the others about 20 % have no CustomerID), 3 % cancellations (invoice ``C…``, negative
    quantity) and 1 % lines with a zero unit price."""
    if rows < customers:
        raise ValueError("purchases need at least one row per customer")
    rng = random.Random(f"purchases-{seed}")
    ids = purchase_customers(seed, customers)
    result: list[tuple[str, ...]] = []
    invoice = 536365
    moment = datetime(2010, 12, 1, 8, 26)
    while len(result) < rows:
        invoice += 1
        moment += timedelta(minutes=rng.randint(1, 180))
        if invoice - 536366 < len(ids):  # every customer's first invoice comes first: all of them buy
            customer = str(ids[invoice - 536366])
        else:
            customer = "" if rng.random() < 0.2 else str(rng.choice(ids))
        cancelled = rng.random() < 0.03
        country = rng.choice(COUNTRIES)
        for _ in range(min(rng.randint(1, 8), rows - len(result))):
            quantity = rng.choice((1, 2, 3, 4, 6, 8, 12, 24, 48))
            price = "0" if rng.random() < 0.01 else f"{rng.randint(10, 2000) / 100:.2f}".rstrip("0").rstrip(".")
            result.append(
                (
                    f"C{invoice}" if cancelled else str(invoice),
                    f"{rng.randint(10000, 99999)}{rng.choice(('', '', 'A', 'B', 'C'))}",
                    rng.choice(PRODUCTS),
                    str(-quantity if cancelled else quantity),
                    f"{moment.month}/{moment.day}/{moment.year} {moment.hour}:{moment.minute:02d}",
                    price,
                    customer,
                    country,
                )
            )
    return result


def customers_in_csv(text: str) -> list[int]:
    """The distinct CustomerIDs of a purchase CSV in the Online Retail layout."""
    found = set()
    for row in csv.DictReader(io.StringIO(text)):
        value = (row.get("CustomerID") or "").strip()
        if value:
            found.add(int(float(value)))
    return sorted(found)


# -------------------------------------------------------------------------------------- reviews, logs
def review_text(rng: random.Random) -> str:
    kind = rng.random()
    sentences = rng.sample(NEUTRAL, rng.randint(1, 3))
    if kind < 0.45:
        sentences.append(rng.choice(WITH_GOOD))
    elif kind < 0.8:
        sentences.append(rng.choice(LOOKALIKES))
    rng.shuffle(sentences)
    separator = rng.choice((" ", " ", "<br /><br />", " <br /> "))
    return separator.join(sentences)


def log_xml(elements: Sequence[tuple[str, str]]) -> str:
    inner = "".join(f"<{name}>{value}</{name}>" for name, value in elements)
    return f"<reviewlog><log>{inner}</log></reviewlog>"


def session_elements(rng: random.Random, day_date: date, first_date: date) -> list[tuple[str, str]]:
    log_date = day_date - timedelta(days=1) if rng.random() < 0.2 and day_date > first_date else day_date
    location = rng.choice(FREQUENT_STATES) if rng.random() < 0.35 else rng.choice(STATES)
    return [
        ("logDate", log_date.strftime("%m-%d-%Y")),
        ("device", rng.choice(DEVICES)),
        ("location", location),
        ("os", rng.choice(OPERATING_SYSTEMS)),
        ("ipAddress", ".".join(str(rng.randint(1, 254)) for _ in range(4))),
        ("phoneNumber", f"{rng.randint(201, 989)}-{rng.randint(200, 999)}-{rng.randint(0, 9999):04d}"),
    ]


def malformed(rng: random.Random, elements: list[tuple[str, str]], day: int) -> str:
    well_formed = log_xml(elements)
    variants = (
        well_formed[: len(well_formed) - rng.randint(8, 25)],  # truncated
        well_formed.replace("</device>", "</devices>"),  # mismatched end tag
        well_formed.replace("</location>", " & Co</location>"),  # bare ampersand
    )
    return variants[day % len(variants)]


def day_ids(day: int, reviews_per_day: int) -> list[int]:
    first_id = (day - 1) * reviews_per_day + 1
    return list(range(first_id, first_id + reviews_per_day))


def defect_ids(day: int, seed: int, reviews_per_day: int) -> list[int]:
    """The ids of day ``day`` with a malformed log, a log missing an element, an unknown customer and no log."""
    return random.Random(f"movies-defects-{seed}-{day}").sample(day_ids(day, reviews_per_day), 4)


def day_files(
    day: int, seed: int, reviews_per_day: int, customers: Sequence[int], start_date: date, bad_records: bool = True
) -> DayFiles:
    """The review and log lines of day ``day``."""
    if day < 1:
        raise ValueError("days are numbered from 1")
    if bad_records and reviews_per_day < 8:
        raise ValueError("with bad records a day needs at least 8 reviews")
    rng = random.Random(f"movies-{seed}-{day}")
    day_date = start_date + timedelta(days=day - 1)
    files = DayFiles(day, day_date)
    ids = day_ids(day, reviews_per_day)
    chosen = defect_ids(day, seed, reviews_per_day) if bad_records else []
    malformed_id, missing_id, unknown_id, no_log_id = chosen or (None,) * 4
    unknown_customer = max(customers) + 100_000 + day
    for review_id in ids:
        cid = unknown_customer if review_id == unknown_id else rng.choice(customers)
        files.reviews.append(ReviewLine(str(cid), review_text(rng), str(review_id)))
        elements = session_elements(rng, day_date, start_date)
        if review_id == no_log_id:
            continue
        if review_id == malformed_id:
            log = malformed(rng, elements, day)
        elif review_id == missing_id:
            missing = LOG_ELEMENTS[(day - 1) % len(LOG_ELEMENTS)]
            log = log_xml([(name, value) for name, value in elements if name != missing])
        else:
            log = log_xml(elements)
        files.logs.append(LogLine(str(review_id), log))
    if bad_records:
        # An id of a clean review of this file (odd days) or of the day before (even days).
        source_day = day if day % 2 == 1 or day == 1 else day - 1
        defective = set(defect_ids(source_day, seed, reviews_per_day))
        repeated = str(min(set(day_ids(source_day, reviews_per_day)) - defective))
        files.reviews.append(ReviewLine(str(rng.choice(customers)), review_text(rng), repeated))
        files.logs.append(LogLine(repeated, log_xml(session_elements(rng, day_date, start_date))))
        unparseable = UNPARSEABLE_ID.format(day=day)
        files.reviews.append(ReviewLine(str(rng.choice(customers)), "Unreadable id.", unparseable))
        files.logs.append(LogLine(unparseable, log_xml(session_elements(rng, day_date, start_date))))
        files.defects = {
            "malformed_xml": [str(malformed_id)],
            "missing_element": [str(missing_id)],
            "unknown_customer": [str(unknown_id)],
            "review_without_log": [str(no_log_id)],
            "duplicate_review": [repeated],
            "unparseable_row": [unparseable],
        }
    return files


# --------------------------------------------------------------------------------------------- writing
def csv_text(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """RFC 4180 CSV: fields with commas, quotes or line breaks quoted, quotes doubled, CRLF-free."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def reviews_csv(files: DayFiles) -> str:
    return csv_text(REVIEW_HEADER, [(r.cid, r.review_str, r.id_review) for r in files.reviews])


def logs_csv(files: DayFiles) -> str:
    return csv_text(LOG_HEADER, [(line.id_review, line.log) for line in files.logs])


def purchases_csv(rows: Iterable[Sequence[str]]) -> str:
    return csv_text(PURCHASE_HEADER, rows)
