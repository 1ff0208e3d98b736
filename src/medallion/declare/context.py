"""What a pipeline's hooks receive: the pipeline's own settings and landing zone, and the services a hook
may need (secrets, the Spark session), without importing the engine."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class PipelineContext:
    """``conf``: the pipeline's settings (its ``conf.yml`` with the environment's overrides);
    ``landing``: the pipeline's landing zone (a :class:`medallion.sources.landing.LandingZone`);
    ``settings``: the whole frozen settings; ``secret(name)``: a value from the secret store (a
    :class:`medallion.platform.secrets.Secret`: ``reveal()`` gives the text, printing it never does);
    ``spark()``: the session (started on first use); ``log``: progress lines;
    ``read_table(name)``: a table of the pipeline as it is now, with its Delta version (``(frame, version)``,
    version -1 and no frame when the table does not exist yet): what a ``train`` hook learns from."""

    name: str
    conf: Mapping[str, Any]
    landing: Any
    settings: Any
    secret: Callable[[str], Any]
    spark: Callable[[], Any]
    log: Callable[[str], None]
    read_table: Callable[[str], tuple[Any, int]] | None = None
