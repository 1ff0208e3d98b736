"""Bronze: the training file and the batches of new customers as they were landed, every value a string,
with ``source_file`` and ``load_time``.

The file starts with a byte-order mark and ends its lines with CRLF; columns are read by position (an
explicit schema, never inferred) and the header, the file's own headings, is compared with the declared one
(a file with another header is quarantined: rule ``declared_header``), so neither reaches a value. A line
with extra or missing fields is quarantined with its raw text by the framework's source rule ``parsed``.
"""

from pyspark.sql import DataFrame

from medallion.declare.tables import Append, FileSource, Layer, table
from medallion.pipelines.cltv.columns import NEW_COLUMNS, TRAIN_COLUMNS, string_schema

TRAIN_FOLDER = "customers_train"
NEW_FOLDER = "customers_new"


def landed_csv(folder: str, columns) -> FileSource:
    """The CSV files of ``folder``, their ``columns`` (heading, name) read as strings under their own headings."""
    return FileSource(
        folder=folder,
        format="csv",
        schema=string_schema(columns),
        name_glob="*.csv",
        header=tuple(heading for heading, _ in columns),
    )


TRAIN_FILES = landed_csv(TRAIN_FOLDER, TRAIN_COLUMNS)
NEW_FILES = landed_csv(NEW_FOLDER, NEW_COLUMNS)


@table(Layer.BRONZE, Append(), {"raw": TRAIN_FILES})
def customers_train_raw(raw: DataFrame) -> DataFrame:
    """The Telco customer churn file (labelled: churn and CLTV) as landed."""
    return raw


@table(Layer.BRONZE, Append(), {"raw": NEW_FILES})
def customers_new_raw(raw: DataFrame) -> DataFrame:
    """Batches of new customers (no label columns) as landed."""
    return raw
