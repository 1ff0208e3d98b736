"""The producer (notebook 10): lands a generated data set as the platform's daily exports would.

Layout: ``<landing>/experiments/<stream>/arrival_date=<day>/<stream>-<day>.json`` (JSON lines; the folder
is the day the events arrived, read back as the ``arrival_date`` column) and ``manifest.json`` beside
the streams, which says what was planted. Files go through the pipeline's landing zone (local folder,
volume or ADLS alike), written under a hidden name and renamed into place, so a running stream never
reads half a file, and a file already landed is left alone: producing
the same data set twice changes nothing. A landing zone holding another data set is refused, since
mixing two would make their users and event ids collide.
"""

from __future__ import annotations

import json
from collections import defaultdict

from medallion.errors import MedallionError
from medallion.pipelines.experiments.generator import GeneratedEvents, generate

STREAMS = ("platform_events", "business_events")
MANIFEST = "manifest.json"


def produce(landing, scale: int, seed: int, planted: bool = True, progress=print) -> dict:
    """Generate and land the data set ``(scale, seed, planted)`` in the pipeline's landing zone (a
    :class:`~medallion.sources.landing.LandingZone`: local, volume or ADLS); returns its manifest."""
    identity = {"scale": scale, "seed": seed, "planted_effects": planted}
    stale = _refuse_other_data_set(landing, identity)
    generated = generate(scale, seed, planted)
    files = _land_streams(landing, generated)
    manifest = {**generated.manifest, "files": sorted(files)}
    text = json.dumps(manifest, indent=2, sort_keys=True, default=str) + "\n"
    (landing.replace if stale else landing.write)("", MANIFEST, lambda out: out.write(text.encode("utf-8")))
    rows = manifest["rows"]
    progress(
        f"[experiments] landed {rows['platform_events']:,} platform and {rows['business_events']:,} business "
        f"events ({len(files)} files, scale {scale}, seed {seed}) in {landing.path()}"
    )
    return manifest


def read_manifest(landing) -> dict:
    text = landing.read_text("", MANIFEST)
    if text is None:
        raise MedallionError(
            f"No data set landed yet ({landing.path(MANIFEST)} is missing): run `medallion produce experiments`."
        )
    return json.loads(text)


def _refuse_other_data_set(landing, identity: dict) -> bool:
    """True when a manifest is there whose files are gone (the streams were reset): it is replaced."""
    text = landing.read_text("", MANIFEST)
    if text is None:
        return False
    landed = json.loads(text)
    if not any(landing.exists(*_folder_and_name(file)) for file in landed.get("files", [])):
        return True
    if {key: landed.get(key) for key in identity} != identity:
        raise MedallionError(
            f"The landing zone already holds the data set scale={landed.get('scale')} seed={landed.get('seed')} "
            f"planted_effects={landed.get('planted_effects')}; run `medallion reset experiments` before producing another."
        )
    return False


def _land_streams(landing, generated: GeneratedEvents) -> list[str]:
    """Land each stream's daily files; returns their paths relative to the pipeline's zone."""
    files = []
    for stream in STREAMS:
        by_day: dict = defaultdict(list)
        for event in getattr(generated, stream):
            by_day[event["arrival_date"]].append(_json_line(event))
        for day, line in generated.malformed[stream]:
            by_day[day].append(line)
        for day, lines in sorted(by_day.items()):
            folder, name = f"{stream}/arrival_date={day.isoformat()}", f"{stream}-{day.isoformat()}.json"
            landing.write_text(folder, name, "\n".join(lines) + "\n")
            files.append(f"{folder}/{name}")
    return files


def _folder_and_name(relative: str) -> tuple[str, str]:
    folder, _, name = relative.rpartition("/")
    return folder, name


def _json_line(event: dict) -> str:
    payload = {k: v for k, v in event.items() if k != "arrival_date"}
    payload["event_time"] = event["event_time"].strftime("%Y-%m-%dT%H:%M:%SZ")
    return json.dumps(payload, sort_keys=True)
