# Databricks notebook source
# MAGIC %md
# MAGIC # 02 · Setup
# MAGIC Prepares the pipeline: its external sources, schemas and empty tables, reference data and (on Databricks) its Unity Catalog grants. Idempotent.

# COMMAND ----------

dbutils.widgets.text("env", "dev", "Environment (conf/<env>.yml)")
dbutils.widgets.text("pipeline", "fitness", "Pipeline")
dbutils.widgets.dropdown("run_type", "once", ["once", "stream"], "Run type")

# COMMAND ----------

# The library is installed on the job cluster as a wheel (see deployment/); interactively, the wheel the
# deploy uploaded (the jobs' library path; <hash>: the start of its sha256, see the state file):
# %pip install /Workspace/<deployment folder>/artifacts/<hash>/medallion-<version>-py3-none-any.whl
from medallion import notebook

result = notebook.setup(dbutils, spark)

# COMMAND ----------

dbutils.notebook.exit(result)
