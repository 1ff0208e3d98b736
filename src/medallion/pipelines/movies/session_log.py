"""The XML session log of a review: its layout check, its fields (Spark's ``xpath_string``), the browser.

A log looks like::

    <reviewlog><log><logDate>04-25-2021</logDate><device>Mobile</device><location>Texas</location>
    <os>Google Android</os><ipAddress>10.0.0.1</ipAddress><phoneNumber>555-010-2030</phoneNumber></log></reviewlog>

Spark 3.5 has no ``from_xml``; its ``xpath_*`` functions parse the string but raise on malformed XML,
failing the whole batch (with the document, personal data included, in the message). So a log is first
matched against ``LOG_LAYOUT``: the layout above as a grammar (an optional XML declaration, whitespace
between tags, elements in any order, empty elements, the five predefined entities; no attributes,
comments, CDATA, DTDs or character references). Everything the grammar accepts is well-formed XML, so
``xpath_string`` only ever sees a document it can parse; a log it rejects is quarantined by the
``log_is_well_formed_xml`` rule. An element that is absent or empty reads as NULL.
"""
from __future__ import annotations

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
    "Alabama", "Alaska", "Arizona", "Arkansas", "California", "Colorado", "Connecticut", "Delaware", "Florida",
    "Georgia", "Hawaii", "Idaho", "Illinois", "Indiana", "Iowa", "Kansas", "Kentucky", "Louisiana", "Maine",
    "Maryland", "Massachusetts", "Michigan", "Minnesota", "Mississippi", "Missouri", "Montana", "Nebraska",
    "Nevada", "New Hampshire", "New Jersey", "New Mexico", "New York", "North Carolina", "North Dakota", "Ohio",
    "Oklahoma", "Oregon", "Pennsylvania", "Rhode Island", "South Carolina", "South Dakota", "Tennessee", "Texas",
    "Utah", "Vermont", "Virginia", "Washington", "West Virginia", "Wisconsin", "Wyoming",
)
OS_BROWSER = {
    "Microsoft Windows": "Edge",
    "Linux": "Firefox",
    "Apple MacOS": "Safari",
    "Apple iOS": "Safari",
    "Google Android": "Chrome",
}

_SPACE = r"[ \t\r\n]"
_NAME = "[A-Za-z_][A-Za-z0-9_.-]*"
# Character data: no markup, no characters XML forbids, no "]]>", entities only the predefined five.
_TEXT = r"(?:(?!\]\]>)[^<&\x00-\x08\x0B\x0C\x0E-\x1F\uFFFE\uFFFF]|&(?:amp|lt|gt|quot|apos);)*"
_ELEMENT = f"(?:<({_NAME}){_SPACE}*>{_TEXT}</\\1{_SPACE}*>|<{_NAME}{_SPACE}*/>)"
_DECLARATION = (  # <?xml version="1.0" encoding="UTF-8" standalone="yes"?>, encoding and standalone optional
    f"<\\?xml{_SPACE}+version{_SPACE}*={_SPACE}*(?:\"1\\.[0-9]\"|'1\\.[0-9]')"
    f"(?:{_SPACE}+encoding{_SPACE}*={_SPACE}*(?:\"[Uu][Tt][Ff]-8\"|'[Uu][Tt][Ff]-8'))?"
    f"(?:{_SPACE}+standalone{_SPACE}*={_SPACE}*(?:\"(?:yes|no)\"|'(?:yes|no)'))?{_SPACE}*\\?>"
)
# One capturing group only (the element name), so the same pattern works in Java (Spark) and Python.
LOG_LAYOUT = (
    f"^(?:{_DECLARATION})?{_SPACE}*<reviewlog{_SPACE}*>{_SPACE}*<log{_SPACE}*>{_SPACE}*"
    f"(?:{_ELEMENT}{_SPACE}*)*</log{_SPACE}*>{_SPACE}*</reviewlog{_SPACE}*>{_SPACE}*$"
)


def is_well_formed(log: Column) -> Column:
    """True when the log matches the layout grammar (so ``xpath_string`` can parse it); never NULL."""
    return F.coalesce(log.rlike(LOG_LAYOUT), F.lit(False))


def element_text(log: Column, element: str, well_formed: Column) -> Column:
    """The trimmed text of ``/reviewlog/log/<element>``; NULL when absent, empty or the log is malformed."""
    text = F.xpath_string(log, F.lit(f"/reviewlog/log/{element}"))
    trimmed = F.regexp_replace(text, f"^{_SPACE}+|{_SPACE}+$", "")
    return F.when(well_formed, F.nullif(trimmed, F.lit("")))


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
