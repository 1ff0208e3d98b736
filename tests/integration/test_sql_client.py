"""The SQL client of setup hooks and tests, on the real PostgreSQL server, through a Python driver."""

from __future__ import annotations

import os
from datetime import date, datetime

import pytest

from medallion.errors import SourceError
from medallion.platform.secrets import Secret
from medallion.sources import databases
from tests.support import postgres


def test_statements_counts_and_values_round_trip(sql):
    with sql() as client:
        assert (
            client.execute(
                "CREATE TABLE t (id INT PRIMARY KEY, name VARCHAR(20), at TIMESTAMP, "
                "day DATE, price NUMERIC(8, 2), ok BOOLEAN)"
            )
            == 0
        )
        assert not client.table_exists("missing") and client.table_exists("T")
        rows = [
            (1, "it's 50%?", datetime(2024, 3, 1, 9, 0, 0, 123456), date(2024, 3, 1), "2.50", True),
            (2, None, None, None, None, None),
        ]
        assert client.execute_many("INSERT INTO t VALUES (?, ?, ?, ?, CAST(? AS NUMERIC), ?)", rows) == 2
        assert (
            client.execute_many(
                "INSERT INTO t SELECT ?, 'x', NULL, NULL, NULL, NULL WHERE NOT EXISTS (SELECT 1 FROM t WHERE id = ?)",
                [(1, 1), (3, 3)],
            )
            == 1
        )
        assert client.execute("UPDATE t SET name = 'a%b' WHERE id >= ?", (2,)) == 2
    with sql() as client:
        assert client.query("SELECT * FROM t WHERE name LIKE '%' || ? ORDER BY id", ("?",)) == [
            (1, "it's 50%?", datetime(2024, 3, 1, 9, 0, 0, 123456), date(2024, 3, 1), 2.5, True)
        ]
        assert client.query("SELECT id, name FROM t WHERE id > 1 ORDER BY id") == [(2, "a%b"), (3, "a%b")]


def test_a_failed_block_is_rolled_back(sql):
    with sql() as client:
        client.execute("CREATE TABLE t (id INT)")
    with pytest.raises(RuntimeError):
        with sql() as client:
            client.execute("INSERT INTO t VALUES (?)", (1,))
            raise RuntimeError("stop")
    with sql() as client:
        assert client.query("SELECT COUNT(*) FROM t") == [(0,)]


def test_a_wrong_password_is_a_clear_error_without_the_password(operational_database):
    wrong = Secret(postgres.PASSWORD_SECRET, "not-the-password-1234")
    with pytest.raises(SourceError, match="refused the login of user") as refused:
        with databases.connect(None, operational_database, wrong):
            pass
    assert "not-the-password-1234" not in str(refused.value)
    assert os.environ[postgres.PASSWORD_ENV_VAR] not in str(refused.value)
