"""Whether every value of a source column's type fits the type a declaration gives it.

A JDBC copy casts each column the database gives to its declared type. With Spark's default (non-ANSI) casts a
value that does not fit never fails: text becomes NULL, a BIGINT above 2^31 wraps, a decimal is rounded to
fewer places. A copy therefore only casts where no value can change: to the same type, to a wider one, or to
text.
"""

from __future__ import annotations

from pyspark.sql import types as T

# Decimal digits every value of an integral type can need.
_INTEGRAL_DIGITS: dict[type, int] = {T.ByteType: 3, T.ShortType: 5, T.IntegerType: 10, T.LongType: 19}
# Significant decimal digits a floating-point type keeps exactly (a value of that many digits reads back as is).
_FLOAT_DIGITS: dict[type, int] = {T.FloatType: 6, T.DoubleType: 15}
_TIMES = (T.DateType, T.TimestampType, T.TimestampNTZType)


def fits(given: T.DataType, declared: T.DataType) -> bool:
    """Whether casting any value of ``given`` to ``declared`` keeps it whole."""
    if given == declared or isinstance(given, T.NullType):
        return True
    if isinstance(declared, T.StringType):
        return isinstance(given, T.AtomicType) and not isinstance(given, T.BinaryType)
    if isinstance(given, (T.TimestampType, T.TimestampNTZType)):
        # Wall-clock values and instants in the session's zone hold the same microseconds (the copy reads
        # timestamps as wall-clock values and takes them in the session time zone on purpose).
        return isinstance(declared, (T.TimestampType, T.TimestampNTZType))
    if isinstance(given, T.DateType):
        return isinstance(declared, _TIMES)
    if type(given) in _FLOAT_DIGITS:
        return type(declared) in _FLOAT_DIGITS and _FLOAT_DIGITS[type(declared)] >= _FLOAT_DIGITS[type(given)]
    digits = _digits(given)
    if digits is None:
        return False
    whole, places = digits
    if isinstance(declared, T.DecimalType):
        return declared.scale >= places and declared.precision - declared.scale >= whole
    if type(declared) in _INTEGRAL_DIGITS:
        if type(given) in _INTEGRAL_DIGITS:
            return _INTEGRAL_DIGITS[type(declared)] >= whole
        # A decimal of as many digits as the integral type's largest value may be beyond it (9,999,999,999).
        return places == 0 and _INTEGRAL_DIGITS[type(declared)] > whole
    if type(declared) in _FLOAT_DIGITS:
        return _FLOAT_DIGITS[type(declared)] >= whole + places
    return False


def misfits(given: T.StructType, declared: T.StructType) -> list[tuple[str, T.DataType, T.DataType]]:
    """The declared columns whose values as ``given`` (matched by name, case aside) might not fit:
    (name, given type, declared type) each. A column ``given`` lacks is not one."""
    by_name = {field.name.lower(): field.dataType for field in given.fields}
    found = ((field.name, by_name.get(field.name.lower()), field.dataType) for field in declared.fields)
    return [(name, of, to) for name, of, to in found if of is not None and not fits(of, to)]


def _digits(data_type: T.DataType) -> tuple[int, int] | None:
    """Digits before and after the point that a numeric type's values can have (floating point: none known)."""
    if type(data_type) in _INTEGRAL_DIGITS:
        return _INTEGRAL_DIGITS[type(data_type)], 0
    if isinstance(data_type, T.DecimalType):
        return data_type.precision - data_type.scale, data_type.scale
    return None
