# Databricks notebook source
# MAGIC %md
# MAGIC # 08 · Batch test
# MAGIC Produces each data set, runs once, and checks the pipeline's acceptance counts. Fails with the differing counts.
# MAGIC With a `test_run` id it writes only to a storage root and schemas of its own, removed when it ends.

# COMMAND ----------

dbutils.widgets.text("env", "dev", "Environment (conf/<env>.yml)")
dbutils.widgets.text("pipeline", "fitness", "Pipeline")
dbutils.widgets.dropdown("run_type", "once", ["once", "stream"], "Run type")
dbutils.widgets.text("test_run", "", "Test run id: data of its own, removed afterwards (empty: shared)")

# COMMAND ----------

# The library is installed on the job cluster as a wheel (see deployment/); interactively, the wheel the
# deploy uploaded (the jobs' library path; <hash>: the start of its sha256, see the state file):
# %pip install /Workspace/<deployment folder>/artifacts/<hash>/medallion-<version>-py3-none-any.whl
from medallion import notebook

result = notebook.batch_test(dbutils, spark)

# COMMAND ----------

dbutils.notebook.exit(result)
