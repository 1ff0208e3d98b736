"""Which casts of a database's column types to declared types keep every value: no server needed."""

import pytest
from pyspark.sql import types as T

from medallion.sources.type_fit import fits, misfits


@pytest.mark.parametrize(
    "given, declared",
    [
        (T.IntegerType(), T.IntegerType()),
        (T.ShortType(), T.IntegerType()),
        (T.IntegerType(), T.LongType()),
        (T.IntegerType(), T.DecimalType(10, 0)),
        (T.IntegerType(), T.DoubleType()),
        (T.LongType(), T.DecimalType(20, 1)),
        (T.DecimalType(8, 3), T.DecimalType(8, 3)),
        (T.DecimalType(8, 3), T.DecimalType(10, 4)),
        (T.DecimalType(10, 2), T.DoubleType()),  # 10 significant digits: a double reads them back as written
        (T.DecimalType(9, 0), T.IntegerType()),
        (T.FloatType(), T.DoubleType()),
        (T.DateType(), T.TimestampType()),
        (T.TimestampNTZType(), T.TimestampType()),  # the copy reads wall-clock values, taken in the session zone
        (T.TimestampType(), T.TimestampNTZType()),
        (T.IntegerType(), T.StringType()),
        (T.TimestampType(), T.StringType()),
        (T.BooleanType(), T.BooleanType()),
    ],
)
def test_a_cast_that_keeps_every_value_fits(given, declared):
    assert fits(given, declared)


@pytest.mark.parametrize(
    "given, declared",
    [
        (T.StringType(), T.IntegerType()),  # 'n/a' would become NULL
        (T.LongType(), T.IntegerType()),  # 2^31 would wrap
        (T.LongType(), T.DoubleType()),  # 19 digits: a double keeps 15
        (T.IntegerType(), T.DecimalType(9, 0)),
        (T.IntegerType(), T.ShortType()),
        (T.DecimalType(10, 0), T.IntegerType()),  # 9,999,999,999 is beyond an INT
        (T.DecimalType(8, 3), T.DecimalType(8, 2)),  # 1.005 would round
        (T.DecimalType(8, 3), T.DecimalType(6, 3)),
        (T.DecimalType(38, 18), T.DoubleType()),
        (T.DecimalType(10, 2), T.LongType()),  # 1.50 would truncate
        (T.DoubleType(), T.FloatType()),
        (T.DoubleType(), T.DecimalType(38, 18)),
        (T.TimestampType(), T.DateType()),
        (T.StringType(), T.TimestampType()),
        (T.BinaryType(), T.StringType()),
        (T.BooleanType(), T.IntegerType()),
    ],
)
def test_a_cast_that_could_change_a_value_does_not_fit(given, declared):
    assert not fits(given, declared)


def test_misfits_name_each_declared_column_by_its_name_case_aside():
    given = T.StructType([T.StructField("ID", T.LongType()), T.StructField("Amount", T.DecimalType(12, 4))])
    declared = T.StructType(
        [
            T.StructField("id", T.IntegerType()),
            T.StructField("amount", T.DecimalType(12, 4)),
            T.StructField("note", T.StringType()),  # not given: another error names it
        ]
    )
    assert misfits(given, declared) == [("id", T.LongType(), T.IntegerType())]
