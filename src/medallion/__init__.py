"""medallion: a bronze → silver → gold lakehouse framework on Spark and Delta Lake, local or on Databricks."""

__version__ = "0.1.0"
