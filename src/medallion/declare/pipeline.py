"""A pipeline is a package: ``medallion.pipelines.<name>``. Its name is the package's name, its tables
are the ``@table`` declarations at module level in its modules, its settings are its ``conf.yml`` and its
operational hooks are the functions of its ``hooks`` module, found by name:

- ``produce(context, set_number, **options)``: land data set N in the landing zone (notebook 10);
- ``setup(context)``: prepare external sources, e.g. an operational database (notebook 02);
- ``load_history(context)``: land reference files; the engine then loads the pipeline's history tables;
- ``expected_counts(context)``: ``{set number: [ExpectedCount, ...]}`` for the acceptance notebooks;
- ``train(context, force=False)``: train the pipeline's models (``medallion train``); a run calls it before
  the first table that reads a model (``model(...)`` input), so the notebooks train and score in one go.

Each hook receives a :class:`~medallion.declare.context.PipelineContext` (the pipeline's own conf and
landing zone). Adding a pipeline is adding its package: nothing else lists pipelines or tables.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from graphlib import CycleError, TopologicalSorter
from types import MappingProxyType, ModuleType
from typing import Any

from medallion.declare.tables import Read, Table
from medallion.errors import MedallionError, UnknownPipelineError, UnknownTableError

PIPELINES_PACKAGE = "medallion.pipelines"
HOOK_NAMES = ("produce", "setup", "load_history", "expected_counts", "train")


@dataclass(frozen=True)
class Pipeline:
    """A named set of table declarations plus the pipeline's operational hooks (None when not defined)."""

    name: str
    description: str = ""
    tables: Mapping[str, Table] = field(default_factory=lambda: MappingProxyType({}))
    hooks: Mapping[str, Callable[..., Any]] = field(default_factory=lambda: MappingProxyType({}))

    @classmethod
    def of(cls, name: str, *tables: Table, **hooks: Callable[..., Any]) -> Pipeline:
        """A pipeline built in place (tests, notebooks experimenting with a table), not discovered."""
        return cls(name, "", MappingProxyType({t.name: t for t in tables}), MappingProxyType(hooks))

    def hook(self, name: str) -> Callable[..., Any] | None:
        return self.hooks.get(name)

    def get(self, table_name: str) -> Table:
        try:
            return self.tables[table_name]
        except KeyError:
            raise UnknownTableError(
                f"Pipeline '{self.name}' has no table '{table_name}'. Tables: {', '.join(sorted(self.tables))}."
            ) from None

    def ordered(self, layer: Any = None) -> list[Table]:
        """Tables in dependency order (upstream first, by layer), optionally only those of one layer."""
        return [t for t in _ordered(self) if layer is None or t.layer == layer]


def _ordered(pipeline: Pipeline) -> list[Table]:
    graph = {t.name: set(t.upstream) for t in pipeline.tables.values()}
    for table_name, upstream in graph.items():
        unknown = upstream - graph.keys()
        if unknown:
            raise MedallionError(
                f"{pipeline.name}.{table_name} reads undeclared table(s): {', '.join(sorted(unknown))}"
            )
    try:
        order = list(TopologicalSorter(graph).static_order())
    except CycleError as err:
        raise MedallionError(f"{pipeline.name}: tables depend on each other in a cycle: {err.args[1]}") from None
    rank = {name: i for i, name in enumerate(order)}
    tables = sorted(pipeline.tables.values(), key=lambda t: (t.layer.rank, rank[t.name]))
    for t in tables:
        for name in t.upstream:
            if pipeline.tables[name].layer.rank > t.layer.rank:
                raise MedallionError(f"{pipeline.name}.{t.name} ({t.layer.value}) reads {name} from a later layer")
        _check_partitions_read(pipeline, t)
    return tables


def _check_partitions_read(pipeline: Pipeline, table: Table) -> None:
    """A read of one partition names partition columns of the table it reads (else no file could be skipped)."""
    for read in table.inputs.values():
        if not isinstance(read, Read):
            continue
        for column, _value in read.partition:
            read_from = pipeline.tables[read.table]
            if column not in read_from.partition_by:
                raise MedallionError(
                    f"{pipeline.name}.{table.name} reads the partition {column} of {read.table}, which is "
                    f"partitioned by {', '.join(read_from.partition_by) or 'nothing'}"
                )


def pipeline_names(package: str = PIPELINES_PACKAGE) -> list[str]:
    module = importlib.import_module(package)
    return sorted(m.name for m in pkgutil.iter_modules(module.__path__) if m.ispkg)


_LOADED: dict[str, Pipeline] = {}


def get_pipeline(name: str, package: str = PIPELINES_PACKAGE) -> Pipeline:
    """The pipeline of package ``<package>.<name>``: its tables and hooks, discovered once per process."""
    key = f"{package}.{name}"
    if key not in _LOADED:
        if name not in pipeline_names(package):
            raise UnknownPipelineError(f"Unknown pipeline '{name}'. Available: {', '.join(pipeline_names(package))}.")
        _LOADED[key] = discover(importlib.import_module(key))
    return _LOADED[key]


def discover(package: ModuleType) -> Pipeline:
    """Import every module of ``package`` and collect the tables declared in it and its hooks."""
    name = package.__name__.rsplit(".", 1)[-1]
    modules = [package] + [
        importlib.import_module(f"{package.__name__}.{m.name}")
        for m in pkgutil.iter_modules(package.__path__)
        if not m.ispkg
    ]
    tables: dict[str, Table] = {}
    for module in modules:
        for value in vars(module).values():
            if isinstance(value, Table) and value.module == module.__name__:
                if value.name in tables and tables[value.name] is not value:
                    raise MedallionError(f"{name}: table '{value.name}' is declared twice")
                tables[value.name] = value
    hooks_module = next((m for m in modules if m.__name__ == f"{package.__name__}.hooks"), None)
    hooks = {
        h: getattr(hooks_module, h) for h in HOOK_NAMES if hooks_module and callable(getattr(hooks_module, h, None))
    }
    description = (package.__doc__ or "").strip().split("\n\n")[0].replace("\n", " ")
    return Pipeline(name, description, MappingProxyType(tables), MappingProxyType(hooks))
