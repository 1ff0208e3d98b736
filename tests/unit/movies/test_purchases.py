"""Reading the Online Retail CSV for the operational user_purchase table."""

from importlib import resources

import pytest

from medallion.errors import MedallionError
from medallion.pipelines.movies.purchases import read_rows


def sample_text() -> str:
    return (resources.files("medallion.pipelines.movies") / "data" / "user_purchase_sample.csv").read_text()


def test_the_real_sample_is_read_with_typed_values_and_its_lines():
    rows = read_rows(sample_text(), "user_purchase_sample.csv")
    assert len(rows) == 39
    assert rows[0] == (
        "536365",
        "85123A",
        "WHITE HANGING HEART T-LIGHT HOLDER",
        6,
        "2010-12-01 08:26:00",
        "2.55",
        17850,
        "United Kingdom",
        "user_purchase_sample.csv",
        2,
    )
    assert rows[-1][-1] == 40 and rows[-1][6] == 12583


def test_guest_rows_cancellations_float_ids_and_iso_dates():
    text = (
        "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
        "C536379,D,Discount,-1,12/1/2010 9:41,27.5,14527.0,United Kingdom\n"
        "536414,22139,,56,2010-12-01 11:52:00,0,,United Kingdom\n"
    )
    assert read_rows(text, "f.csv") == [
        ("C536379", "D", "Discount", -1, "2010-12-01 09:41:00", "27.5", 14527, "United Kingdom", "f.csv", 2),
        ("536414", "22139", None, 56, "2010-12-01 11:52:00", "0", None, "United Kingdom", "f.csv", 3),
    ]


@pytest.mark.parametrize(
    "text, message",
    [
        ("a,b\n1,2\n", "header"),
        (
            "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n1,2,3,x,12/1/2010 9:41,1,1,UK\n",
            "line 2",
        ),
        (
            "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n1,2,3,1,yesterday,1,1,UK\n",
            "line 2",
        ),
    ],
)
def test_an_unreadable_file_stops_with_its_line(text, message):
    with pytest.raises(MedallionError, match=message):
        read_rows(text, "f.csv")
