"""Operational hooks: what notebooks 02 (setup) and 10 (producer) and the CLI call."""
from __future__ import annotations

from medallion.errors import MedallionError
from medallion.pipelines.experiments import operational
from medallion.pipelines.experiments.landing import produce
from medallion.runtime import Runtime


def setup(runtime: Runtime) -> dict[str, int]:
    """Create and seed the operational database's schema (idempotent)."""
    return operational.setup(runtime)


def producer(runtime: Runtime, set_number: int = 1, scale: int | None = None, seed: int | None = None,
             planted: bool = True, **_options) -> dict:
    """Land the generated data set (``scale`` users, ``seed``; defaults from conf ``generator``).

    There is one data set per (scale, seed): ``set_number`` must be 1."""
    if set_number != 1:
        raise MedallionError("experiments lands one data set per --scale and --seed: use --set 1 (the default).")
    defaults = runtime.settings.pipeline("experiments")["generator"]
    return produce(runtime.settings, int(scale or defaults["scale"]), int(defaults["seed"] if seed is None else seed),
                   planted=planted)
