"""The producer (notebook 10): lands a generated data set as the platform's daily exports would.

Layout: ``<landing>/experiments/<stream>/arrival_date=<day>/<stream>-<day>.json`` (JSON lines; the folder
is the day the events arrived, read back as the ``arrival_date`` column) and ``manifest.json`` beside
the streams, which says what was planted. Files are written under a hidden name and renamed into
place, so a running stream never reads half a file, and a file already landed is left alone: producing
the same data set twice changes nothing. A landing zone holding another data set is refused, since
mixing two would make their users and event ids collide.
"""
from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

from medallion.errors import MedallionError
from medallion.pipelines.experiments.generator import GeneratedEvents, generate

STREAMS = ("platform_events", "business_events")
MANIFEST = "manifest.json"


def produce(landing, scale: int, seed: int, planted: bool = True, progress=print) -> dict:
    """Generate and land the data set ``(scale, seed, planted)`` in the pipeline's landing zone; returns its
    manifest."""
    root = Path(landing.path())
    identity = {"scale": scale, "seed": seed, "planted_effects": planted}
    _refuse_other_data_set(root / MANIFEST, identity)
    generated = generate(scale, seed, planted)
    files = _land_streams(root, generated)
    manifest = {**generated.manifest, "files": sorted(str(p.relative_to(root)) for p in files)}
    _write_once(root / MANIFEST, json.dumps(manifest, indent=2, sort_keys=True, default=str) + "\n")
    rows = manifest["rows"]
    progress(f"[experiments] landed {rows['platform_events']:,} platform and {rows['business_events']:,} business "
             f"events ({len(files)} files, scale {scale}, seed {seed}) in {root}")
    return manifest


def read_manifest(landing) -> dict:
    path = Path(landing.path(MANIFEST))
    if not path.exists():
        raise MedallionError(f"No data set landed yet ({path} is missing): run `medallion produce experiments`.")
    return json.loads(path.read_text())


def _refuse_other_data_set(path: Path, identity: dict) -> None:
    if not path.exists():
        return
    if not any((path.parent / stream).exists() for stream in STREAMS):  # the streams were reset: a stale manifest
        path.unlink()
        return
    landed = json.loads(path.read_text())
    if {key: landed.get(key) for key in identity} != identity:
        raise MedallionError(
            f"The landing zone already holds the data set scale={landed.get('scale')} seed={landed.get('seed')} "
            f"planted_effects={landed.get('planted_effects')}; run `medallion reset experiments` before producing another."
        )


def _land_streams(root: Path, generated: GeneratedEvents) -> list[Path]:
    files = []
    for stream in STREAMS:
        by_day: dict = defaultdict(list)
        for event in getattr(generated, stream):
            by_day[event["arrival_date"]].append(_json_line(event))
        for day, line in generated.malformed[stream]:
            by_day[day].append(line)
        for day, lines in sorted(by_day.items()):
            path = root / stream / f"arrival_date={day.isoformat()}" / f"{stream}-{day.isoformat()}.json"
            _write_once(path, "\n".join(lines) + "\n")
            files.append(path)
    return files


def _json_line(event: dict) -> str:
    payload = {k: v for k, v in event.items() if k != "arrival_date"}
    payload["event_time"] = event["event_time"].strftime("%Y-%m-%dT%H:%M:%SZ")
    return json.dumps(payload, sort_keys=True)


def _write_once(path: Path, text: str) -> None:
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    hidden = path.with_name(f".{path.name}.tmp")
    hidden.write_text(text, encoding="utf-8")
    hidden.rename(path)
