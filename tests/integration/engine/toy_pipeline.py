"""The files of a sixth pipeline, ``toy``, written into a temporary package folder by the tests: a landing
CSV into bronze, a silver streaming table, a gold view reading a setting. Nothing outside its folder knows it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

FILES = {
    "__init__.py": '"""Toy orders: CSV files of orders, their totals per customer."""\n',
    "conf.yml": "minimum_amount: 10   # orders below it do not count in the totals\n",
    "bronze.py": '''
from pyspark.sql import functions as F

from medallion.declare.tables import Append, FileSource, Layer, table

ORDERS = FileSource(folder="orders", format="csv", schema="order_id INT, customer STRING, amount INT",
                    options={"header": "true"})


@table(Layer.BRONZE, Append(), {"orders": ORDERS})
def orders_bz(orders):
    """Orders as landed."""
    return orders
''',
    "silver.py": '''
from medallion.declare.tables import InsertOnly, Layer, expect_or_drop, stream, table


@table(Layer.SILVER, InsertOnly(("order_id",)), {"orders": stream("orders_bz")},
       expectations=(expect_or_drop("has_customer", "customer IS NOT NULL"),))
def orders(orders):
    """One row per order."""
    return orders.select("order_id", "customer", "amount")
''',
    "gold.py": '''
from pyspark.sql import functions as F

from medallion.declare.tables import Layer, Scd1, snapshot, table


@table(Layer.GOLD, Scd1(("customer",)), {"orders": snapshot("orders")})
def customer_totals(orders, conf):
    """Per customer: the sum of orders of at least the minimum amount."""
    counted = orders.where(F.col("amount") >= int(conf["minimum_amount"]))
    return counted.groupBy("customer").agg(F.sum("amount").cast("bigint").alias("total"))
''',
    "hooks.py": """
from medallion.declare.context import PipelineContext

SETS = {
    1: "order_id,customer,amount\\n1,ann,5\\n2,ann,20\\n3,bob,30\\n4,,40\\n",
    2: "order_id,customer,amount\\n5,bob,12\\n",
}


def produce(context: PipelineContext, set_number: int = 1, **_options) -> list[str]:
    return [context.landing.write_text("orders", f"orders_{set_number}.csv", SETS[set_number])]
""",
}


def write_toy_pipeline(folder: Path) -> Path:
    package = folder / "toy"
    package.mkdir(parents=True)
    for name, text in FILES.items():
        (package / name).write_text(text.lstrip("\n"))
    return package


def forget_toy_pipeline() -> None:
    """Drop every trace of an imported toy pipeline (its modules and its discovered declarations), so the
    next test that writes its own toy gets that one, not the previous test's."""
    import sys

    from medallion.declare import pipeline as declared

    for name in [m for m in sys.modules if m == "medallion.pipelines.toy" or m.startswith("medallion.pipelines.toy.")]:
        del sys.modules[name]
    declared._LOADED.pop("medallion.pipelines.toy", None)


@contextmanager
def installed_pipeline(tmp_path: Path, name: str, files: dict[str, str], spark) -> Iterator[tuple]:
    """The pipeline ``name`` made of ``files``, importable as ``medallion.pipelines.<name>`` from a folder
    outside the project, set up on a storage root of its own: (runtime, pipeline); forgotten afterwards."""
    import medallion.pipelines
    from medallion.declare import pipeline as declared
    from medallion.engine import runner
    from medallion.platform.config import load_settings
    from medallion.platform.runtime import Runtime

    package = tmp_path / "pipelines" / name
    package.mkdir(parents=True)
    for file, text in files.items():
        (package / file).write_text(text.lstrip("\n"))
    medallion.pipelines.__path__.append(str(tmp_path / "pipelines"))
    declared._LOADED.pop(f"medallion.pipelines.{name}", None)
    try:
        runtime = Runtime(
            load_settings("local", root=str(tmp_path / "lake"), overrides={"secrets": {"provider": "env"}}),
            spark=spark,
        )
        pipeline = declared.get_pipeline(name)
        runner.prepare(runtime, pipeline)
        yield runtime, pipeline
    finally:
        medallion.pipelines.__path__.remove(str(tmp_path / "pipelines"))
        declared._LOADED.pop(f"medallion.pipelines.{name}", None)
