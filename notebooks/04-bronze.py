# Databricks notebook source
# MAGIC %md
# MAGIC # 04 · Bronze
# MAGIC Ingests what is new in the landing zone into the bronze tables: once (`availableNow`) or as streams.

# COMMAND ----------

dbutils.widgets.text("env", "dev", "Environment (conf/<env>.yml)")
dbutils.widgets.text("pipeline", "fitness", "Pipeline")
dbutils.widgets.dropdown("run_type", "once", ["once", "stream"], "Run type")

# COMMAND ----------

# The library is installed on the job cluster as a wheel (see deployment/); interactively, the wheel the
# deploy uploaded (the jobs' library path; <hash>: the start of its sha256, see the state file):
# %pip install /Workspace/<deployment folder>/artifacts/<hash>/medallion-<version>-py3-none-any.whl
from medallion import notebook

result = notebook.run_layer(dbutils, spark, "bronze")

# COMMAND ----------

dbutils.notebook.exit(result)
