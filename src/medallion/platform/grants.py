"""Unity Catalog access as code: the GRANT statements of an environment, rendered from conf.

Two parts, because they need different rights:

- **bootstrap** (catalog level, run once by the catalog owner or a metastore admin): the job principal
  may use the catalog and create schemas in it (and read/write files of the external location); the
  reader group may use the catalog;
- **objects** (schemas and tables, applied by ``setup`` on Databricks, as the job principal that owns
  them): the job principal writes every layer; readers get ``USE SCHEMA`` on the gold schemas and
  ``SELECT`` on each gold table, and any privilege on bronze and silver is revoked, so readers see gold
  only. Re-applying changes nothing.

``medallion grants --env E`` prints both for every declared table of the shared schemas; the tests hold
them as golden SQL. Setup applies the objects part as its run names the schemas (an isolated test run's
own), on the gold tables that exist so far.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from medallion.declare.tables import Layer
from medallion.errors import ConfigError
from medallion.platform import layout
from medallion.platform.config import load_conf

WRITER_SCHEMA_PRIVILEGES = "USE SCHEMA, CREATE TABLE, SELECT, MODIFY"


@dataclass(frozen=True)
class Access:
    env: str
    catalog: str
    job_principal: str | None
    reader_group: str | None
    external_location: str | None
    pipelines: tuple[str, ...]  # the pipelines deployed to the environment
    landing_external_location: str | None = None  # over storage.landing: Auto Loader reads files there
    landing_volume: str | None = None  # catalog.schema.volume, when the landing zone is a volume


def access_for(env: str, conf_dir=None) -> Access:
    conf = load_conf(env, conf_dir)
    if not conf["catalog"]:
        raise ConfigError(f"conf/{env}.yml sets no catalog: Unity Catalog grants need one.")
    section = conf["deployment"]
    from medallion.declare.pipeline import pipeline_names

    pipelines = tuple(section["pipelines"] or pipeline_names())
    return Access(
        env,
        conf["catalog"],
        section["job_principal"],
        section["reader_group"],
        section["external_location"],
        pipelines,
        section["landing_external_location"],
        section["landing_volume"],
    )


def quote(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def bootstrap_statements(access: Access) -> list[str]:
    catalog = quote(access.catalog)
    statements = []
    if access.job_principal:
        writer = quote(access.job_principal)
        statements.append(f"GRANT USE CATALOG, CREATE SCHEMA ON CATALOG {catalog} TO {writer};")
        if access.external_location:
            statements.append(
                f"GRANT READ FILES, WRITE FILES, CREATE EXTERNAL TABLE ON EXTERNAL LOCATION "
                f"{quote(access.external_location)} TO {writer};"
            )
        if access.landing_external_location:  # the producers write, Auto Loader reads (and archives)
            statements.append(
                f"GRANT READ FILES, WRITE FILES ON EXTERNAL LOCATION "
                f"{quote(access.landing_external_location)} TO {writer};"
            )
        if access.landing_volume:
            volume = ".".join(quote(part) for part in access.landing_volume.split("."))
            statements.append(f"GRANT READ VOLUME, WRITE VOLUME ON VOLUME {volume} TO {writer};")
    if access.reader_group:
        statements.append(f"GRANT USE CATALOG ON CATALOG {catalog} TO {quote(access.reader_group)};")
    return statements


def quote_qualified(name: str) -> str:
    """``catalog.schema`` (or ``catalog.schema.table``) with each part quoted."""
    return ".".join(quote(part) for part in name.split("."))


def object_statements(
    access: Access, gold_tables: dict[str, list[str]], schema_of: Callable[[str, Layer], str] | None = None
) -> list[str]:
    """``gold_tables``: pipeline → its gold table names (every pipeline deployed to the environment).
    ``schema_of(pipeline, layer)``: a schema's catalog-qualified name; by default the shared schemas
    ``<catalog>.<pipeline>_<layer>``."""
    schema_of = schema_of or (lambda pipeline, layer: layout.schema(pipeline, layer, catalog=access.catalog))
    statements = []
    for pipeline in sorted(gold_tables):
        for layer in Layer:
            schema = quote_qualified(schema_of(pipeline, layer))
            if access.job_principal:
                statements.append(
                    f"GRANT {WRITER_SCHEMA_PRIVILEGES} ON SCHEMA {schema} TO {quote(access.job_principal)};"
                )
            if not access.reader_group:
                continue
            reader = quote(access.reader_group)
            if layer is Layer.GOLD:
                statements.append(f"GRANT USE SCHEMA ON SCHEMA {schema} TO {reader};")
                statements += [
                    f"GRANT SELECT ON TABLE {schema}.{quote(t)} TO {reader};" for t in sorted(gold_tables[pipeline])
                ]
            else:
                statements.append(f"REVOKE ALL PRIVILEGES ON SCHEMA {schema} FROM {reader};")
    return statements


def render(access: Access, gold_tables: dict[str, list[str]]) -> str:
    header = [
        f"-- Unity Catalog grants for medallion in {access.env} (rendered from conf/{access.env}.yml by `medallion grants`).",
        f"-- Writer (the jobs' service principal): {access.job_principal or '(not set)'}; "
        f"readers, gold only: {access.reader_group or '(not set)'}.",
    ]
    bootstrap = ["", "-- 1. Bootstrap: once, by the catalog owner or a metastore admin.", *bootstrap_statements(access)]
    objects = [
        "",
        "-- 2. Schemas and tables: applied by `medallion setup` / notebook 02-setup on every run.",
        *object_statements(access, gold_tables),
    ]
    return "\n".join(header + bootstrap + objects) + "\n"


def gold_tables_of(pipelines: list[str]) -> dict[str, list[str]]:
    from medallion.declare.pipeline import get_pipeline

    return {name: [t.name for t in get_pipeline(name).ordered(Layer.GOLD)] for name in pipelines}


def apply_grants(runtime, pipeline: str) -> list[str]:
    """Run the object grants of ``pipeline`` on Databricks (setup calls this after creating the tables).

    Locally there is no Unity Catalog: nothing runs and the empty list says so.
    """
    if not runtime.settings.is_databricks:
        return []
    statements = runtime_statements(runtime, access_for(runtime.settings.env), pipeline)
    for statement in statements:
        runtime.spark.sql(statement.rstrip(";"))
    return statements


def runtime_statements(runtime, access: Access, pipeline: str) -> list[str]:
    """The object grants of ``pipeline`` as this run names its schemas (an isolated run's or a per-user
    target's suffix included), on the gold tables that exist in the catalog. Setup leaves a table that
    reads a model nothing has trained yet (cltv's predictions) for the run that trains, and a GRANT on a
    missing table fails the whole job."""
    existing = [
        table
        for table in gold_tables_of([pipeline])[pipeline]
        if runtime.spark.catalog.tableExists(runtime.location(pipeline, Layer.GOLD, table).name)
    ]
    return object_statements(access, {pipeline: existing}, schema_of=runtime.database)
