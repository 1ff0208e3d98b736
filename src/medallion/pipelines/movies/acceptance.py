"""Acceptance counts (notebooks 08 and 09): cumulative rows after producing and running days 1, 2, 3.

They follow from the generator's bookkeeping, not from running the pipeline. Each day with bad records
has ``reviews_per_day`` reviews plus a repeated review line and an unparseable one, and as many logs
minus the review without a log, plus a repeated log line and an unparseable one. So, per day:
movie_review_bz gets reviews_per_day + 1 rows (the unparseable line is quarantined), classified_movie_review
reviews_per_day - 1 (the repeat and the unknown customer are quarantined), log_reviews_bz reviews_per_day,
review_logs reviews_per_day - 3 (the repeat, the malformed and the incomplete log are quarantined).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from typing import Any

from medallion.declare.tables import ExpectedCount as Check
from medallion.pipelines.movies.hooks import purchase_file

DAYS = 3


def expected_counts(conf: Mapping[str, Any]) -> dict[int, list[Check]]:
    per_day = int(conf["reviews_per_day"])
    if bool(conf["bad_records"]):
        bronze_reviews, reviews, bronze_logs, logs = per_day + 1, per_day - 1, per_day, per_day - 3
    else:
        bronze_reviews = reviews = bronze_logs = logs = per_day
    purchase_rows = list(csv.DictReader(io.StringIO(purchase_file(conf)[0])))
    with_customer = sum(1 for row in purchase_rows if (row["CustomerID"] or "").strip())
    return {
        day: [
            Check("user_purchase_bz", len(purchase_rows)),
            Check("user_purchase", with_customer),
            Check("movie_review_bz", day * bronze_reviews),
            Check("classified_movie_review", day * reviews),
            Check("log_reviews_bz", day * bronze_logs),
            Check("review_logs", day * logs),
        ]
        for day in range(1, DAYS + 1)
    }
