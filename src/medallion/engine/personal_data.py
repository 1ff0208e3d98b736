"""Personal-data policy applied before a row reaches silver: tokenise, mask, drop or keep each column.

Tokens are keyed HMAC-SHA256 (hex) with a key from the secret store: stable across runs, so joins on a
token still work, and not reversible or guessable without the key (a plain hash of a phone number or MAC
address can be brute-forced; a keyed one cannot). The key lives only inside the UDF's closure: it never
appears in a query plan, a log line or Delta commit info.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import StringType

from medallion.errors import MedallionError
from medallion.platform.secrets import Secret

POLICIES = ("tokenize", "mask", "drop", "keep")
KEY_NAME = "pii-token-key"


def token(value: str | None, key: bytes) -> str | None:
    if value is None:
        return None
    return hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()


def apply_policy(df: DataFrame, policy: Mapping[str, str], key: Secret | bytes | None) -> DataFrame:
    """``df`` with each column of ``policy`` tokenised, masked, dropped or kept. A declared column the frame
    does not have is an error, not a column passed over: a build that renamed it (``email`` to
    ``email_address``) would otherwise store the value in clear under its new name."""
    unknown = {column: rule for column, rule in policy.items() if rule not in POLICIES}
    if unknown:
        raise ValueError(f"unknown personal-data policy {unknown}; use one of {POLICIES}")
    missing = [column for column in policy if column not in df.columns]
    if missing:
        raise MedallionError(
            f"personal data declared for {', '.join(missing)}, which the build does not give (it gives "
            f"{', '.join(df.columns)}): declare the columns by the names the build gives them, or remove the ones "
            "it no longer has"
        )
    tokenize = None
    if any(rule == "tokenize" for rule in policy.values()):
        if key is None:
            raise ValueError("a tokenize policy needs the pii-token-key secret")
        key_bytes = key if isinstance(key, bytes) else key.reveal().encode("utf-8")
        tokenize = F.udf(lambda value: token(value, key_bytes), StringType())
    for column, rule in policy.items():
        if rule == "tokenize":
            assert tokenize is not None  # built above whenever a column is tokenised
            df = df.withColumn(column, tokenize(F.col(column).cast("string")))
        elif rule == "mask":
            text = F.col(column).cast("string")
            df = df.withColumn(
                column,
                F.when(text.isNull(), None).otherwise(
                    F.concat(F.expr(f"repeat('*', greatest(length({column}) - 4, 0))"), F.substring(text, -4, 4))
                ),
            )
        elif rule == "drop":
            df = df.drop(column)
    return df
