"""XML session logs: the layout grammar, parsing with Spark's xpath functions, browser, quarantine rules."""
import random
import re
import xml.etree.ElementTree as ET
from datetime import datetime

import pytest
from chispa import assert_df_equality
from pyspark.sql import functions as F

from medallion.engine import quality
from medallion.declare.pipeline import get_pipeline
from medallion.pipelines.movies import session_log

from medallion.pipelines.movies.silver import review_logs

PIPELINE = get_pipeline("movies")

GOOD_LOG = ("<reviewlog><log><logDate>04-25-2021</logDate><device>Mobile</device><location>Texas</location>"
            "<os>Google Android</os><ipAddress>10.1.2.3</ipAddress><phoneNumber>555-010-2030</phoneNumber>"
            "</log></reviewlog>")
WELL_FORMED = [
    GOOD_LOG,
    '<?xml version="1.0" encoding="UTF-8"?>\n' + GOOD_LOG,
    GOOD_LOG.replace("><", ">\n  <"),                                   # pretty-printed
    GOOD_LOG.replace("<os>Google Android</os>", "").replace("</log>", "<os>Google Android</os></log>"),  # reordered
    GOOD_LOG.replace("<location>Texas</location>", "<location/>"),       # empty element
    GOOD_LOG.replace("Texas", "Texas &amp; more"),                       # predefined entity
    GOOD_LOG.replace("</log>", "<browser>Opera</browser></log>"),        # an element we do not read
    "<reviewlog><log></log></reviewlog>",
]
MALFORMED = [
    GOOD_LOG[:-12],                                                      # truncated
    GOOD_LOG.replace("</device>", "</devices>"),                         # mismatched end tag
    GOOD_LOG.replace("Texas", "Texas & Co"),                             # bare ampersand
    GOOD_LOG.replace("<os>", "<os>", 1).replace("</os>", ""),            # unclosed element
    GOOD_LOG + "<reviewlog/>",                                           # two roots
    "",
    "not xml at all",
    GOOD_LOG.replace("10.1.2.3", "10.1.2.3&#0;"),                        # character XML forbids
]
OUTSIDE_LAYOUT = [  # well-formed XML, but not the vendor's layout: quarantined too
    GOOD_LOG.replace("<log>", '<log id="1">'),
    GOOD_LOG.replace("<device>", "<!-- c --><device>"),
    "<other><log><os>Linux</os></log></other>",
]


def matches_layout(text: str) -> bool:
    return re.match(session_log.LOG_LAYOUT, text) is not None


def parses_as_xml(text: str) -> bool:
    try:
        ET.fromstring(text)
        return True
    except ET.ParseError:
        return False


@pytest.mark.parametrize("log", WELL_FORMED)
def test_layout_accepts_the_spec_layout_and_its_variants(log):
    assert matches_layout(log) and parses_as_xml(log)


@pytest.mark.parametrize("log", MALFORMED)
def test_layout_rejects_malformed_xml(log):
    assert not matches_layout(log) and not parses_as_xml(log)


@pytest.mark.parametrize("log", OUTSIDE_LAYOUT)
def test_layout_rejects_well_formed_xml_of_another_layout(log):
    assert parses_as_xml(log) and not matches_layout(log)


def mutated_logs(count: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    alphabet = "<>/&;!?=\"' \nabcdXY-?"
    texts = []
    for _ in range(count):
        chars = list(rng.choice(WELL_FORMED))
        for _ in range(rng.randint(1, 3)):
            position = rng.randrange(len(chars) + 1)
            action = rng.random()
            if action < 0.4 and chars:
                del chars[min(position, len(chars) - 1)]
            elif action < 0.8:
                chars.insert(position, rng.choice(alphabet))
            elif chars:
                chars[min(position, len(chars) - 1)] = rng.choice(alphabet)
        texts.append("".join(chars))
    return texts


def test_everything_the_layout_accepts_is_well_formed_xml():
    """Mutations of valid logs: whatever the grammar lets through, an XML parser reads (so Spark's
    xpath functions never see a document they would fail on)."""
    accepted = [text for text in mutated_logs(3000) if matches_layout(text)]
    assert len(accepted) > 300  # not vacuous: many mutations (in text values) stay valid
    assert [text for text in accepted if not parses_as_xml(text)] == []


def test_spark_and_python_agree_on_the_layout(spark):
    texts = mutated_logs(1500, seed=11) + WELL_FORMED + MALFORMED + OUTSIDE_LAYOUT
    frame = spark.createDataFrame([(i, t) for i, t in enumerate(texts)], "i INT, log STRING")
    in_spark = {r["i"]: r["ok"] for r in frame.select("i", session_log.is_well_formed(F.col("log")).alias("ok")).collect()}
    assert in_spark == {i: matches_layout(t) for i, t in enumerate(texts)}


def test_browser_follows_the_os(spark):
    frame = spark.createDataFrame([(os,) for os in [*session_log.OS_BROWSER, "BeOS", None]], "os STRING")
    result = [r[0] for r in frame.select(session_log.browser_of(F.col("os"))).collect()]
    assert result == ["Edge", "Firefox", "Safari", "Safari", "Chrome", None, None]


def test_log_dates_are_month_day_year_and_bad_ones_are_null(spark):
    texts = ["04-25-2021", "12-01-2020", "02-30-2021", "13-01-2021", "4-5-2021", "2021-04-25", None]
    frame = spark.createDataFrame([(t,) for t in texts], "t STRING")
    result = [r[0] for r in frame.select(session_log.log_date(F.col("t"))).collect()]
    assert result == [datetime(2021, 4, 25).date(), datetime(2020, 12, 1).date(), None, None, None, None, None]


# ------------------------------------------------------------------------------------- the silver table
BRONZE_SCHEMA = "id_review INT, log STRING, source_file STRING, source_line INT, load_time TIMESTAMP"
LOADED = datetime(2021, 4, 26, 6, 0)


def bronze(spark, rows):
    return spark.createDataFrame([(*row, "day1.csv", line, LOADED) for line, row in enumerate(rows, 2)], BRONZE_SCHEMA)


def checked_logs(spark, rows):
    landed = bronze(spark, rows)
    built = review_logs(landed, landed)
    return quality.with_failed_rules(built, PIPELINE.get("review_logs").expectations)


def test_good_logs_are_parsed_with_browser(spark):
    rows = [(1, GOOD_LOG), (2, WELL_FORMED[1].replace("Google Android", "Apple MacOS").replace("Mobile", "Computer")),
            (3, WELL_FORMED[2].replace("Google Android", "Linux"))]
    result = checked_logs(spark, rows).select(
        "log_id", "log_date", "device", "os", "location", "browser", "ip", "phone_number", quality.FAILED)
    expected = spark.createDataFrame([
        (1, LOADED.date().replace(day=25), "Mobile", "Google Android", "Texas", "Chrome", "10.1.2.3", "555-010-2030", []),
        (2, LOADED.date().replace(day=25), "Computer", "Apple MacOS", "Texas", "Safari", "10.1.2.3", "555-010-2030", []),
        (3, LOADED.date().replace(day=25), "Mobile", "Linux", "Texas", "Firefox", "10.1.2.3", "555-010-2030", []),
    ], "log_id INT, log_date DATE, device STRING, os STRING, location STRING, browser STRING, ip STRING, "
       "phone_number STRING, _failed_rules ARRAY<STRING>")
    assert_df_equality(result, expected, ignore_nullable=True, ignore_row_order=True)


def test_bad_logs_break_the_rule_that_names_their_defect(spark):
    without = {element: GOOD_LOG.replace(re.search(f"<{element}>[^<]*</{element}>", GOOD_LOG).group(0), "")
               for element in session_log.FIELDS.values()}
    rows = [
        (1, MALFORMED[0]), (2, MALFORMED[1]), (3, MALFORMED[2]), (4, None),
        (5, without["logDate"]), (6, without["device"]), (7, without["location"]), (8, without["os"]),
        (9, without["ipAddress"]), (10, without["phoneNumber"]),
        (11, GOOD_LOG.replace("Google Android", "BeOS")), (12, GOOD_LOG.replace("Mobile", "Watch")),
        (13, GOOD_LOG.replace("04-25-2021", "2021-04-25")), (14, GOOD_LOG.replace("Texas", " ")),
        (None, GOOD_LOG), (15, GOOD_LOG), (15, GOOD_LOG.replace("Texas", "Ohio")),
    ]
    result = {(r["log_id"], r["location"]): r[quality.FAILED]
              for r in checked_logs(spark, rows).select("log_id", "location", quality.FAILED).collect()}
    assert result == {
        (1, None): ["log_is_well_formed_xml"], (2, None): ["log_is_well_formed_xml"],
        (3, None): ["log_is_well_formed_xml"], (4, None): ["log_is_well_formed_xml"],
        (5, "Texas"): ["log_date_present"], (6, "Texas"): ["device_present"], (7, None): ["location_present"],
        (8, "Texas"): ["os_present"], (9, "Texas"): ["ip_present"], (10, "Texas"): ["phone_number_present"],
        (11, "Texas"): ["known_os"], (12, "Texas"): ["known_device"], (13, "Texas"): ["log_date_valid"],
        (14, None): ["location_present"], (None, "Texas"): ["log_id_present"],
        (15, "Texas"): [], (15, "Ohio"): ["unique_log_id"],
    }


def test_a_repeated_id_from_an_earlier_load_is_a_repeat(spark):
    earlier = spark.createDataFrame([(1, GOOD_LOG, "day1.csv", 9, datetime(2021, 4, 25))], BRONZE_SCHEMA)
    today = bronze(spark, [(1, GOOD_LOG), (2, GOOD_LOG)])
    built = review_logs(today, earlier.unionByName(today))
    assert sorted((r["log_id"], r["_repeated_id"]) for r in built.collect()) == [(1, True), (2, False)]


def test_ip_and_phone_are_tokenised_and_the_raw_log_dropped():
    assert PIPELINE.get("review_logs").personal_data == {"ip": "tokenize", "phone_number": "tokenize", "log": "drop"}
