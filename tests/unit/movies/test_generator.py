"""The seeded generator: the same seed gives the same files; every day carries each defect it promises."""

import csv
import io
import xml.etree.ElementTree as ET
from datetime import date

import pytest

from medallion.pipelines.movies import generator
from medallion.pipelines.movies.classification import english_stop_words

CUSTOMERS = generator.purchase_customers(1, 10)
START = date(2021, 4, 1)


def day(number, **options):
    return generator.day_files(number, 1, options.pop("reviews", 20), CUSTOMERS, START, **options)


def test_the_same_seed_gives_the_same_files_and_another_seed_other_files():
    assert generator.reviews_csv(day(2)) == generator.reviews_csv(day(2))
    assert generator.logs_csv(day(2)) == generator.logs_csv(day(2))
    other = generator.day_files(2, 2, 20, CUSTOMERS, START)
    assert generator.reviews_csv(other) != generator.reviews_csv(day(2))


def test_days_have_consecutive_review_ids_dates_and_one_of_each_defect():
    first, second = day(1), day(2)
    assert (first.date, second.date) == (START, date(2021, 4, 2))
    assert [int(r.id_review) for r in second.reviews[:20]] == list(range(21, 41))
    assert set(second.defects) == set(generator.DEFECTS)
    ids = {name: ids[0] for name, ids in second.defects.items()}
    logs = {line.id_review: line.log for line in second.logs}
    assert ids["review_without_log"] not in logs
    with pytest.raises(ET.ParseError):
        ET.fromstring(logs[ids["malformed_xml"]])
    missing = ET.fromstring(logs[ids["missing_element"]]).find("log")
    assert len(missing) == 5
    unknown = next(r for r in second.reviews if r.id_review == ids["unknown_customer"])
    assert int(unknown.cid) not in CUSTOMERS
    assert int(ids["duplicate_review"]) <= 20  # even days repeat an id of the day before
    assert [r.id_review for r in first.reviews].count(first.defects["duplicate_review"][0]) == 2  # odd: same file
    assert not ids["unparseable_row"].isdigit()


def test_without_bad_records_every_review_has_a_clean_log():
    clean = day(3, bad_records=False)
    assert clean.defects == {}
    assert [r.id_review for r in clean.reviews] == [line.id_review for line in clean.logs]
    for line in clean.logs:
        entry = ET.fromstring(line.log).find("log")
        assert [child.tag for child in entry] == list(generator.LOG_ELEMENTS)
        assert entry.findtext("os") in generator.OPERATING_SYSTEMS
        assert entry.findtext("device") in generator.DEVICES
        assert entry.findtext("location") in generator.STATES


def test_review_texts_cover_the_word_good_its_lookalikes_and_markup():
    texts = [r.review_str for n in range(1, 8) for r in day(n, reviews=40).reviews]
    stop = set(english_stop_words())
    positive = [t for t in texts if "good" in [w for w in t.replace("<br />", " ").lower().split() if w not in stop]]
    assert 0.2 < len(positive) / len(texts) < 0.7
    assert any("not good." in t.lower() for t in texts) and any("goodness" in t.lower() for t in texts)
    assert any("<br />" in t for t in texts) and any("\n" in t for t in texts) and any('"' in t for t in texts)


def test_files_are_rfc4180_csv_that_round_trips():
    files = day(1)
    rows = list(csv.reader(io.StringIO(generator.reviews_csv(files))))
    assert rows[0] == list(generator.REVIEW_HEADER)
    assert rows[1:] == [[r.cid, r.review_str, r.id_review] for r in files.reviews]


def test_purchases_follow_the_online_retail_layout():
    rows = generator.purchase_rows(5, 10, 300)
    text = generator.purchases_csv(rows)
    assert text.splitlines()[0] == ",".join(generator.PURCHASE_HEADER)
    assert len(rows) == 300
    assert set(generator.customers_in_csv(text)) == set(generator.purchase_customers(5, 10))
    assert any(r[6] == "" for r in rows) and any(r[0].startswith("C") and int(r[3]) < 0 for r in rows)
