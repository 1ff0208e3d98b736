"""Deploying the project to Azure Databricks with databricks-sdk: plan first, then apply.

``medallion deploy --env E`` builds the wheel once (or takes the one CI built), uploads it with the
notebooks and ``conf/`` to the environment's workspace folder, and creates or updates one job per pipeline
by name. Everything it creates is recorded in a state file in that folder and tagged, so ``--destroy``
removes exactly that and nothing else. Every setting comes from ``conf/<env>.yml`` (section
``deployment``); nothing here names a workspace, a group or a size.

This package runs from a checkout of the repository (CI or a laptop), never on a cluster, so it is not
part of the wheel it deploys.
"""
