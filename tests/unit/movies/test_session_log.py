"""XML session logs: parsed by an XML parser (anything well-formed is read), browser, quarantine rules."""

import random
import re
import xml.etree.ElementTree as ET
from datetime import datetime

import pytest
from chispa import assert_df_equality
from pyspark.sql import functions as F

from medallion.declare.pipeline import get_pipeline
from medallion.engine import quality
from medallion.pipelines.movies import session_log
from medallion.pipelines.movies.silver import review_logs

PIPELINE = get_pipeline("movies")

GOOD_LOG = (
    "<reviewlog><log><logDate>04-25-2021</logDate><device>Mobile</device><location>Texas</location>"
    "<os>Google Android</os><ipAddress>10.1.2.3</ipAddress><phoneNumber>555-010-2030</phoneNumber>"
    "</log></reviewlog>"
)
WELL_FORMED = [
    GOOD_LOG,
    '<?xml version="1.0" encoding="UTF-8"?>\n' + GOOD_LOG,
    GOOD_LOG.replace("><", ">\n  <"),  # pretty-printed
    GOOD_LOG.replace("<os>Google Android</os>", "").replace("</log>", "<os>Google Android</os></log>"),  # reordered
    GOOD_LOG.replace("<location>Texas</location>", "<location/>"),  # empty element
    GOOD_LOG.replace("Texas", "Texas &amp; more"),  # predefined entity
    GOOD_LOG.replace("</log>", "<browser>Opera</browser></log>"),  # an element we do not read
    "<reviewlog><log></log></reviewlog>",
]
MALFORMED = [
    GOOD_LOG[:-12],  # truncated
    GOOD_LOG.replace("</device>", "</devices>"),  # mismatched end tag
    GOOD_LOG.replace("Texas", "Texas & Co"),  # bare ampersand
    GOOD_LOG.replace("<os>", "<os>", 1).replace("</os>", ""),  # unclosed element
    GOOD_LOG + "<reviewlog/>",  # two roots
    "",
    "not xml at all",
    GOOD_LOG.replace("10.1.2.3", "10.1.2.3&#0;"),  # character XML forbids
]
XML_CONSTRUCTS = [  # well-formed XML that a hand-written grammar used to reject: read like any other log
    GOOD_LOG.replace("Texas", "&#84;exas"),  # decimal character reference
    GOOD_LOG.replace("Texas", "&#x54;exas"),  # hexadecimal character reference
    GOOD_LOG.replace("Texas", "<![CDATA[Texas]]>"),  # CDATA section
    GOOD_LOG.replace("<device>", "<!-- c --><device>"),  # comment
    GOOD_LOG.replace("<log>", '<log id="1">').replace("<os>", "<os kind='name'>"),  # attributes
    GOOD_LOG.replace("<log>", "<log><?vendor note?>"),  # processing instruction
    GOOD_LOG.replace("Texas", "Te<!-- inside -->xas"),  # comment inside the text
]
OUTSIDE_LAYOUT = [  # well-formed XML, but not the vendor's layout (or a DTD): quarantined
    "<other><log><os>Linux</os></log></other>",
    "<reviewlog><entry><os>Linux</os></entry></reviewlog>",
    '<!DOCTYPE reviewlog [<!ENTITY a "aaaaaaaaaa">]>' + GOOD_LOG.replace("Texas", "&a;"),
]


def in_layout(text: str) -> bool:
    """An independent reading with ElementTree: well-formed, a root reviewlog holding a log, no DTD."""
    try:
        root = ET.fromstring(text)
    except ET.ParseError:
        return False
    return "<!DOCTYPE" not in text and root.tag == "reviewlog" and root.find("log") is not None


@pytest.mark.parametrize("log", WELL_FORMED + XML_CONSTRUCTS)
def test_well_formed_logs_of_the_layout_are_accepted(log):
    assert session_log.parse_log(log)["well_formed"] and in_layout(log)


@pytest.mark.parametrize("log", XML_CONSTRUCTS)
def test_references_cdata_comments_and_attributes_are_read_as_xml(log):
    assert session_log.parse_log(log) == {
        "well_formed": True,
        "log_date_text": "04-25-2021",
        "device": "Mobile",
        "location": "Texas",
        "os": "Google Android",
        "ip": "10.1.2.3",
        "phone_number": "555-010-2030",
    }


@pytest.mark.parametrize("log", MALFORMED + OUTSIDE_LAYOUT + [None])
def test_malformed_xml_and_other_layouts_are_rejected(log):
    assert session_log.parse_log(log) == {"well_formed": False, **{column: None for column in session_log.FIELDS}}


def test_empty_and_absent_elements_are_null_and_the_first_repeat_wins():
    log = (
        GOOD_LOG.replace("<location>Texas</location>", "<location> </location>")
        .replace("</log>", "<device>Tablet</device></log>")
        .replace("<phoneNumber>555-010-2030</phoneNumber>", "")
    )
    parsed = session_log.parse_log(log)
    assert (parsed["location"], parsed["device"], parsed["phone_number"]) == (None, "Mobile", None)


def mutated_logs(count: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    alphabet = "<>/&;!?=\"' \nabcdXY-?#[]"
    texts = []
    for _ in range(count):
        chars = list(rng.choice(WELL_FORMED + XML_CONSTRUCTS))
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


def test_the_parser_agrees_with_elementtree_on_mutated_logs():
    texts = mutated_logs(3000)
    accepted = [text for text in texts if session_log.parse_log(text)["well_formed"]]
    assert 300 < len(accepted) < len(texts)  # not vacuous: both kinds occur
    assert [text for text in texts if session_log.parse_log(text)["well_formed"] != in_layout(text)] == []


def test_spark_reads_what_python_reads(spark):
    texts = mutated_logs(300, seed=11) + WELL_FORMED + XML_CONSTRUCTS + MALFORMED + OUTSIDE_LAYOUT
    frame = spark.createDataFrame([(i, t) for i, t in enumerate(texts)], "i INT, log STRING")
    in_spark = {
        r["i"]: r["ok"] for r in frame.select("i", session_log.is_well_formed(F.col("log")).alias("ok")).collect()
    }
    assert in_spark == {i: in_layout(t) for i, t in enumerate(texts)}


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
    rules = PIPELINE.get("review_logs").expectations
    return quality.with_failed_rules(built, rules).withColumn("rules", quality.failed_rules(rules))


def test_good_logs_are_parsed_with_browser(spark):
    rows = [
        (1, GOOD_LOG),
        (2, WELL_FORMED[1].replace("Google Android", "Apple MacOS").replace("Mobile", "Computer")),
        (3, WELL_FORMED[2].replace("Google Android", "Linux")),
    ]
    result = checked_logs(spark, rows).select(
        "log_id", "log_date", "device", "os", "location", "browser", "ip", "phone_number", "rules"
    )
    expected = spark.createDataFrame(
        [
            (
                1,
                LOADED.date().replace(day=25),
                "Mobile",
                "Google Android",
                "Texas",
                "Chrome",
                "10.1.2.3",
                "555-010-2030",
                [],
            ),
            (
                2,
                LOADED.date().replace(day=25),
                "Computer",
                "Apple MacOS",
                "Texas",
                "Safari",
                "10.1.2.3",
                "555-010-2030",
                [],
            ),
            (3, LOADED.date().replace(day=25), "Mobile", "Linux", "Texas", "Firefox", "10.1.2.3", "555-010-2030", []),
        ],
        "log_id INT, log_date DATE, device STRING, os STRING, location STRING, browser STRING, ip STRING, "
        "phone_number STRING, rules ARRAY<STRING>",
    )
    assert_df_equality(result, expected, ignore_nullable=True, ignore_row_order=True)


def test_bad_logs_break_the_rule_that_names_their_defect(spark):
    without = {
        element: GOOD_LOG.replace(re.search(f"<{element}>[^<]*</{element}>", GOOD_LOG).group(0), "")
        for element in session_log.FIELDS.values()
    }
    rows = [
        (1, MALFORMED[0]),
        (2, MALFORMED[1]),
        (3, MALFORMED[2]),
        (4, None),
        (5, without["logDate"]),
        (6, without["device"]),
        (7, without["location"]),
        (8, without["os"]),
        (9, without["ipAddress"]),
        (10, without["phoneNumber"]),
        (11, GOOD_LOG.replace("Google Android", "BeOS")),
        (12, GOOD_LOG.replace("Mobile", "Watch")),
        (13, GOOD_LOG.replace("04-25-2021", "2021-04-25")),
        (14, GOOD_LOG.replace("Texas", " ")),
        (None, GOOD_LOG),
        (15, GOOD_LOG),
        (15, GOOD_LOG.replace("Texas", "Ohio")),
        (16, XML_CONSTRUCTS[2]),
        (17, XML_CONSTRUCTS[4].replace("Texas", "Iowa")),
    ]
    result = {
        (r["log_id"], r["location"]): r["rules"]
        for r in checked_logs(spark, rows).select("log_id", "location", "rules").collect()
    }
    assert result == {
        (1, None): ["log_is_well_formed_xml"],
        (2, None): ["log_is_well_formed_xml"],
        (3, None): ["log_is_well_formed_xml"],
        (4, None): ["log_is_well_formed_xml"],
        (5, "Texas"): ["log_date_present"],
        (6, "Texas"): ["device_present"],
        (7, None): ["location_present"],
        (8, "Texas"): ["os_present"],
        (9, "Texas"): ["ip_present"],
        (10, "Texas"): ["phone_number_present"],
        (11, "Texas"): ["known_os"],
        (12, "Texas"): ["known_device"],
        (13, "Texas"): ["log_date_valid"],
        (14, None): ["location_present"],
        (None, "Texas"): ["log_id_present"],
        (15, "Texas"): [],
        (15, "Ohio"): ["unique_log_id"],
        (16, "Texas"): [],
        (17, "Iowa"): [],
    }


def test_a_repeated_id_from_an_earlier_load_is_a_repeat(spark):
    earlier = spark.createDataFrame([(1, GOOD_LOG, "day1.csv", 9, datetime(2021, 4, 25))], BRONZE_SCHEMA)
    today = bronze(spark, [(1, GOOD_LOG), (2, GOOD_LOG)])
    built = review_logs(today, earlier.unionByName(today))
    assert sorted((r["log_id"], r["_repeated_id"]) for r in built.collect()) == [(1, True), (2, False)]


def test_a_log_quarantined_for_what_it_holds_never_claims_its_id(spark):
    """Day 1's logs 1 and 2 are quarantined (malformed XML, an unknown OS): they leave their ids free, so
    day 2's corrected resends are loaded. Log 3 was accepted on day 1: its resend is still a repeat, and so
    is a later broken log of an id already taken."""
    day1, day2 = datetime(2021, 4, 25), datetime(2021, 4, 26)
    earlier = spark.createDataFrame(
        [
            (1, MALFORMED[0], "day1.csv", 2, day1),
            (2, GOOD_LOG.replace("Google Android", "BeOS"), "day1.csv", 3, day1),
            (3, GOOD_LOG, "day1.csv", 4, day1),
        ],
        BRONZE_SCHEMA,
    )
    today = spark.createDataFrame(
        [
            (1, GOOD_LOG, "day2.csv", 2, day2),
            (2, GOOD_LOG, "day2.csv", 3, day2),
            (3, GOOD_LOG.replace("Texas", "Ohio"), "day2.csv", 4, day2),
            (3, MALFORMED[1], "day2.csv", 5, day2),
        ],
        BRONZE_SCHEMA,
    )
    expectations = PIPELINE.get("review_logs").expectations

    def outcome(logs, landed):
        checked = quality.with_failed_rules(review_logs(logs, landed), expectations)
        rules = quality.failed_rules(expectations)
        return sorted(
            (r["log_id"], r["_source_file"], r["rules"]) for r in checked.withColumn("rules", rules).collect()
        )

    assert outcome(earlier, earlier) == [
        (1, "day1.csv", ["log_is_well_formed_xml"]),
        (2, "day1.csv", ["known_os"]),
        (3, "day1.csv", []),
    ]
    assert outcome(today, earlier.unionByName(today)) == [
        (1, "day2.csv", []),
        (2, "day2.csv", []),
        (3, "day2.csv", ["log_is_well_formed_xml", "unique_log_id"]),
        (3, "day2.csv", ["unique_log_id"]),
    ]


def test_ip_and_phone_are_tokenised_and_the_raw_log_dropped():
    assert PIPELINE.get("review_logs").personal_data == {"ip": "tokenize", "phone_number": "tokenize", "log": "drop"}
