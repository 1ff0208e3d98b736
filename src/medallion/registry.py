"""The registry of pipelines and their tables; the run order is derived from the declarations.

A pipeline lives in ``medallion.pipelines.<name>`` and exposes ``PIPELINE``. Adding a pipeline is adding
that package: nothing else lists pipelines by hand.
"""
from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field
from graphlib import CycleError, TopologicalSorter
from typing import Any, Callable, Mapping

from medallion.errors import MedallionError, UnknownPipelineError, UnknownTableError
from medallion.tables import Check, Expectation, Layer, Read, FileSource, Table, WriteMode


@dataclass
class Pipeline:
    """A named set of table declarations plus the pipeline's own operational hooks.

    ``producer(settings, set_number, **options)`` drops a data set into the landing zone (notebook 10);
    ``history_loader(runtime)`` loads reference data once (notebook 03); ``setup(runtime)`` prepares
    external sources such as a database (notebook 02).
    """

    name: str
    description: str = ""
    tables: dict[str, Table] = field(default_factory=dict)
    producer: Callable[..., Any] | None = None
    history_loader: Callable[..., Any] | None = None
    setup: Callable[..., Any] | None = None
    acceptance: Callable[..., Any] | None = None  # acceptance(settings) -> {set: [Check, ...]}

    def table(
        self,
        layer: Layer,
        write: WriteMode,
        inputs: Mapping[str, Read | FileSource] | None = None,
        *,
        name: str | None = None,
        partition_by: tuple[str, ...] = (),
        expectations: tuple[Expectation, ...] = (),
        personal_data: Mapping[str, str] | None = None,
        comment: str = "",
        history: bool = False,
        checks: tuple[Check, ...] = (),
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Decorator declaring the decorated pure function as the build of a table."""

        def register(build: Callable[..., Any]) -> Callable[..., Any]:
            table_name = name or build.__name__
            if table_name in self.tables:
                raise MedallionError(f"{self.name}: table '{table_name}' is declared twice")
            self.tables[table_name] = Table(
                name=table_name,
                layer=layer,
                build=build,
                write=write,
                inputs=dict(inputs or {}),
                partition_by=partition_by,
                expectations=expectations,
                personal_data=dict(personal_data or {}),
                comment=comment or (build.__doc__ or "").strip().split("\n")[0],
                history=history,
                checks=tuple(checks),
            )
            return build

        return register

    def get(self, table_name: str) -> Table:
        try:
            return self.tables[table_name]
        except KeyError:
            raise UnknownTableError(
                f"Pipeline '{self.name}' has no table '{table_name}'. Tables: {', '.join(sorted(self.tables))}."
            ) from None

    def ordered(self, layer: Layer | None = None) -> list[Table]:
        """Tables in dependency order (upstream first), optionally only those of one layer."""
        graph = {t.name: set(t.upstream) for t in self.tables.values()}
        for table_name, upstream in graph.items():
            unknown = upstream - graph.keys()
            if unknown:
                raise MedallionError(f"{self.name}.{table_name} reads undeclared table(s): {', '.join(sorted(unknown))}")
        try:
            order = list(TopologicalSorter(graph).static_order())
        except CycleError as err:
            raise MedallionError(f"{self.name}: tables depend on each other in a cycle: {err.args[1]}") from None
        # Stable and readable: by layer first, then dependency order within the layer.
        rank = {name: i for i, name in enumerate(order)}
        tables = sorted(self.tables.values(), key=lambda t: (t.layer.rank, rank[t.name]))
        for t in tables:
            for upstream in t.upstream:
                if self.tables[upstream].layer.rank > t.layer.rank:
                    raise MedallionError(f"{self.name}.{t.name} ({t.layer.value}) reads {upstream} from a later layer")
        return [t for t in tables if layer is None or t.layer == layer]


def pipeline_names() -> list[str]:
    import medallion.pipelines as package

    return sorted(m.name for m in pkgutil.iter_modules(package.__path__) if m.ispkg)


def get_pipeline(name: str) -> Pipeline:
    if name not in pipeline_names():
        raise UnknownPipelineError(f"Unknown pipeline '{name}'. Available: {', '.join(pipeline_names())}.")
    module = importlib.import_module(f"medallion.pipelines.{name}")
    return module.PIPELINE
