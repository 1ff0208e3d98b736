"""medallion.read.lakehouse and `medallion show`: gold read by delta-rs, no Spark session."""

import subprocess
import sys
from datetime import date

import pytest
from deltalake import DeltaTable

from medallion import io
from medallion.declare.tables import Layer
from medallion.errors import MedallionError, UnknownTableError
from medallion.read.lakehouse import Lakehouse
from tests.integration.analysts.conftest import write_gold


def test_the_lakehouse_lists_and_reads_gold_tables(gold_root):
    lake = Lakehouse(str(gold_root))
    assert lake.tables() == ["fitness.gym_summary", "fitness.workout_bpm_summary"]
    rows = lake.read("fitness.gym_summary", where="gym = 2 AND minutes_in_gym > 70", columns=["date", "minutes_in_gym"])
    assert rows.to_pylist() == [
        {"date": date(2019, 12, 2), "minutes_in_gym": 72.0},
        {"date": date(2019, 12, 3), "minutes_in_gym": 82.0},
    ]
    assert lake.count("fitness.workout_bpm_summary", where="age = '<18'") == 2
    info = lake.info("fitness.gym_summary")
    assert (info.num_rows, info.version, info.columns[:2]) == (6, 0, ("date", "gym"))


def test_a_table_not_written_yet_and_a_bad_filter_give_clear_errors(tmp_path):
    lake = Lakehouse(str(write_gold(tmp_path, tables=("gym_summary",))))
    assert lake.tables() == ["fitness.gym_summary"]
    with pytest.raises(UnknownTableError, match="fitness.workout_bpm_summary \\(gold\\) has not been written yet"):
        lake.read("fitness.workout_bpm_summary")
    with pytest.raises(MedallionError, match="Cannot read the table with that query"):
        lake.read("fitness.gym_summary", where="no_such_column = 1")


def test_show_prints_the_rows_without_starting_spark(gold_root):
    script = (
        "import sys\n"
        "from medallion.cli import main\n"
        f"code = main(['show', 'fitness.gym_summary', '--root', {str(gold_root)!r}, '--where', 'gym = 1', '--limit', '2'])\n"
        "from pyspark import SparkContext\n"
        "assert SparkContext._active_spark_context is None, 'a Spark session was started'\n"
        "sys.exit(code)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "fitness_gold.gym_summary: 3 rows",
        "date        gym  mac_address     workout_id  session_id  minutes_in_gym  minutes_exercising",
        "----------  ---  --------------  ----------  ----------  --------------  ------------------",
        "2019-12-01    1  aa:bb:cc:00:01           1           1           61.00               30.00",
        "2019-12-02    1  aa:bb:cc:01:01           1           3           71.00               35.00",
    ]


def test_gold_tables_created_by_spark_keep_the_protocol_synapse_reads(make_runtime):
    """Reader version 1, writer 2, no table features, deletion vectors off: what Synapse serverless
    (Delta 1.0 reader) and delta-rs read. Bronze keeps the engine's defaults."""
    runtime = make_runtime()
    spark = runtime.spark
    schema = "date DATE, gym BIGINT, minutes_in_gym DOUBLE"
    gold = runtime.location("fitness", Layer.GOLD, "gym_summary")
    bronze = runtime.location("fitness", Layer.BRONZE, "gym_logins_bz")
    for location in (gold, bronze):
        io.create_if_missing(spark, location, spark.createDataFrame([], schema).schema)
    spark.createDataFrame([("2019-12-01", 1, 61.0)], "d STRING, gym BIGINT, minutes_in_gym DOUBLE").selectExpr(
        "CAST(d AS DATE) AS date", "gym", "minutes_in_gym"
    ).write.format("delta").mode("append").save(gold.path)

    table = DeltaTable(gold.path)
    protocol = table.protocol()
    assert (protocol.min_reader_version, protocol.min_writer_version) == (1, 2)
    assert protocol.reader_features is None and protocol.writer_features is None
    assert table.metadata().configuration["delta.enableDeletionVectors"] == "false"
    assert "delta.enableDeletionVectors" not in DeltaTable(bronze.path).metadata().configuration
    assert Lakehouse(runtime.settings.root).read("fitness.gym_summary").to_pylist() == [
        {"date": date(2019, 12, 1), "gym": 1, "minutes_in_gym": 61.0}
    ]
