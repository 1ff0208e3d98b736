"""The XML session log of a review: parsed with a real XML parser (expat), its fields, the browser.

A log looks like::

    <reviewlog><log><logDate>04-25-2021</logDate><device>Mobile</device><location>Texas</location>
    <os>Google Android</os><ipAddress>10.0.0.1</ipAddress><phoneNumber>555-010-2030</phoneNumber></log></reviewlog>

Spark 3.5 has no ``from_xml``, and its ``xpath_*`` functions raise on malformed XML, failing the whole
batch (with the document, personal data included, in the message). So each log is parsed by Python's
expat in a UDF (:func:`parse_log`): everything XML allows is read as XML says (character and entity
references, CDATA sections, comments, processing instructions, attributes, whitespace, elements in any
order), and a log that is not well-formed, or not the vendor's layout (a root ``reviewlog`` holding a
``log``), gets ``well_formed`` false and is quarantined by the ``log_is_well_formed_xml`` rule. A document
type declaration is refused the same way: it could declare entities that expand without bound, and the
vendor's logs have none. An element's value is its text (CDATA included) trimmed of XML whitespace; an
element that is absent or empty reads as NULL, and the first of repeated elements wins.
"""

from __future__ import annotations

from xml.parsers import expat

from pyspark.sql import Column
from pyspark.sql import functions as F

DATE_FORMAT = "MM-dd-yyyy"
DATE_TEXT = r"^[0-9]{2}-[0-9]{2}-[0-9]{4}$"
FIELDS = {  # column → element of <reviewlog><log>
    "log_date_text": "logDate",
    "device": "device",
    "location": "location",
    "os": "os",
    "ip": "ipAddress",
    "phone_number": "phoneNumber",
}
DEVICES = ("Mobile", "Computer", "Tablet")
US_STATES = (
    "Alabama",
    "Alaska",
    "Arizona",
    "Arkansas",
    "California",
    "Colorado",
    "Connecticut",
    "Delaware",
    "Florida",
    "Georgia",
    "Hawaii",
    "Idaho",
    "Illinois",
    "Indiana",
    "Iowa",
    "Kansas",
    "Kentucky",
    "Louisiana",
    "Maine",
    "Maryland",
    "Massachusetts",
    "Michigan",
    "Minnesota",
    "Mississippi",
    "Missouri",
    "Montana",
    "Nebraska",
    "Nevada",
    "New Hampshire",
    "New Jersey",
    "New Mexico",
    "New York",
    "North Carolina",
    "North Dakota",
    "Ohio",
    "Oklahoma",
    "Oregon",
    "Pennsylvania",
    "Rhode Island",
    "South Carolina",
    "South Dakota",
    "Tennessee",
    "Texas",
    "Utah",
    "Vermont",
    "Virginia",
    "Washington",
    "West Virginia",
    "Wisconsin",
    "Wyoming",
)
OS_BROWSER = {
    "Microsoft Windows": "Edge",
    "Linux": "Firefox",
    "Apple MacOS": "Safari",
    "Apple iOS": "Safari",
    "Google Android": "Chrome",
}

XML_SPACE = " \t\r\n"
LOG_TYPE = "struct<well_formed: boolean, " + ", ".join(f"{column}: string" for column in FIELDS) + ">"


class _RefusedDoctype(Exception):
    pass


def parse_log(text: str | None) -> dict:
    """``well_formed`` and the trimmed text of each of ``FIELDS`` (None when absent or empty)."""
    parsed: dict[str, bool | str | None] = {"well_formed": False, **{column: None for column in FIELDS}}
    if text is None:
        return parsed
    path: list[str] = []
    texts: dict[str, list[str]] = {}  # element of the first <log> → its text pieces (first occurrence only)
    state = {"logs": 0, "collecting": None}

    def start(name, attributes):
        path.append(name)
        if path == ["reviewlog", "log"]:
            state["logs"] += 1
        elif state["logs"] == 1 and len(path) == 3 and path[:2] == ["reviewlog", "log"] and name not in texts:
            texts[name] = []
            state["collecting"] = name

    def end(name):
        if len(path) == 3:
            state["collecting"] = None
        path.pop()

    def characters(data):
        # The element's string value, as XPath's: its text and that of its descendants.
        if state["collecting"] is not None:
            texts[state["collecting"]].append(data)

    def refuse_doctype(*_):
        raise _RefusedDoctype()

    parser = expat.ParserCreate()
    parser.StartElementHandler, parser.EndElementHandler = start, end
    parser.CharacterDataHandler, parser.StartDoctypeDeclHandler = characters, refuse_doctype
    try:
        parser.Parse(text, True)
    except (expat.ExpatError, _RefusedDoctype):
        return parsed
    if state["logs"] == 0:  # well-formed, but not the vendor's layout
        return parsed
    parsed["well_formed"] = True
    for column, element in FIELDS.items():
        parsed[column] = "".join(texts.get(element, [])).strip(XML_SPACE) or None
    return parsed


def parsed_log(log: Column) -> Column:
    """The struct ``LOG_TYPE`` of :func:`parse_log` for each log."""
    return F.udf(parse_log, LOG_TYPE)(log)


def is_well_formed(log: Column) -> Column:
    """True when the log is well-formed XML in the vendor's layout; never NULL."""
    return F.coalesce(parsed_log(log)["well_formed"], F.lit(False))


def log_date(text: Column) -> Column:
    """``MM-dd-yyyy`` → DATE; NULL for anything else, including impossible dates like 02-30-2021.

    The shape is checked first: Spark's date parser raises (rather than returning NULL) on some texts
    that its pre-3.0 parser would have read, such as ``4-5-2021``."""
    return F.when(text.rlike(DATE_TEXT), F.try_to_timestamp(text, F.lit(DATE_FORMAT)).cast("date"))


def browser_of(os: Column) -> Column:
    """The browser the app uses on each OS: Windows → Edge, Linux → Firefox, macOS and iOS → Safari,
    Android → Chrome; NULL for an unknown OS."""
    browser = F.when(F.lit(False), F.lit(None).cast("string"))
    for os_name, browser_name in OS_BROWSER.items():
        browser = browser.when(os == os_name, F.lit(browser_name))
    return browser
