"""The producer (notebook 10): drops data set N into the landing zone, as the devices' systems would.

Sets 1 and 2 are the published files (users, profiles, workouts, gym logins); heart-rate files are
generated for sets 1 to 10: set N belongs to device 118440 (odd N) or 175406 (even N), one reading per
second from that device's registration (later sets continue where the previous one of that device
ended), heartrate uniform in [35, 95) from a seed fixed per set.

Files are written under a hidden name and renamed into place, so a running stream never reads half a
file; a file already landed is left alone, so producing a set twice changes nothing (producing it again at
another scale or seed is refused: the first heart-rate file would be kept under the same name).
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path
from typing import BinaryIO

from medallion.errors import MedallionError

PUBLISHED_SETS = 2
GENERATED_BPM_SETS = 10
BPM_DEVICES = {1: (118440, 1678451168), 2: (175406, 1678538830)}  # device, registration_timestamp
PUBLISHED_FILES = (  # landing folder, file name pattern
    ("registered_users_bz", "1-registered_users_{n}.csv"),
    ("gym_logins_bz", "5-gym_logins_{n}.csv"),
    ("kafka_multiplex_bz", "2-user_info_{n}.json"),
    ("kafka_multiplex_bz", "4-workout_{n}.json"),
)
DATE_LOOKUP_FILE = "6-date-lookup.json"
PRODUCED = "_produced"  # notes on what was landed: "_" keeps them out of every reader and upload


def data_file(name: str) -> Path:
    return Path(str(resources.files("medallion.pipelines.fitness") / "data" / name))


def produce(landing, conf: Mapping, set_number: int, log=print, scale: float = 1) -> list[str]:
    """Land set ``set_number`` in ``landing`` (the pipeline's LandingZone); returns the landed files
    (already-landed files included). ``scale`` multiplies the heart-rate readings of the set (the
    benchmark's SF10 is ``scale=10``); the published files are the same at every scale."""
    if not 1 <= set_number <= GENERATED_BPM_SETS:
        raise MedallionError(
            f"fitness has sets 1 to {GENERATED_BPM_SETS} (files for 1-{PUBLISHED_SETS}, heart rate for all)."
        )
    landed = []
    if set_number <= PUBLISHED_SETS:
        for folder, pattern in PUBLISHED_FILES:
            name = pattern.format(n=set_number)
            landed.append(landing.write(folder, name, lambda out, src=data_file(name): out.write(src.read_bytes())))
    bpm_name = f"3-bpm_{set_number}.json"
    readings = round(int(conf["bpm_readings_per_set"]) * scale)
    # What a heart-rate file holds (readings and seed), noted beside it when it is landed: producing the set again
    # at another scale or seed is refused, never the first file kept under the same name. (A file landed before
    # such notes were kept has none, and is taken as it is.)
    note = f"readings {readings}, seed {int(conf['bpm_seed']) + set_number}\n"
    if landing.exists(PRODUCED, f"{bpm_name}.note") or not landing.exists("kafka_multiplex_bz", bpm_name):
        landing.write_text_once(PRODUCED, f"{bpm_name}.note", note)
    landed.append(
        landing.write("kafka_multiplex_bz", bpm_name, lambda out: write_bpm_file(out, set_number, conf, readings))
    )
    log(f"[fitness] set {set_number}: {len(landed)} files in {landing.path()}")
    return landed


def land_date_lookup(landing) -> str:
    return landing.write(
        "date_lookup", DATE_LOOKUP_FILE, lambda out: out.write(data_file(DATE_LOOKUP_FILE).read_bytes())
    )


def write_bpm_file(out: BinaryIO, set_number: int, conf: Mapping, readings: int | None = None) -> int:
    """Set ``set_number``'s heart-rate file: ``readings`` (default: the configured number per set) in a row
    for its device, starting where that device's previous set ended."""
    device, registered = BPM_DEVICES[2 - set_number % 2]
    readings = int(conf["bpm_readings_per_set"]) if readings is None else readings
    first = registered + ((set_number - 1) // 2) * readings
    return write_bpm_readings(out, device, first, readings, seed=int(conf["bpm_seed"]) + set_number)


def write_bpm_readings(out: BinaryIO, device: int, first: int, readings: int, seed: int) -> int:
    """One JSON line per reading in the Kafka-dump envelope of the published files (epoch seconds): one
    reading per second from ``first``, heartrate uniform in [35, 95) from ``seed``."""
    generator = random.Random(seed)
    lines = []
    for i in range(readings):
        second = first + i
        heartrate = 35 + 60 * generator.random()
        time_text = datetime.fromtimestamp(second, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        value = f'{{\\"device_id\\": {device}, \\"time\\": \\"{time_text}\\", \\"heartrate\\": {heartrate!r}}}'
        lines.append(
            f'{{"key":"{device}","value":"{value}","topic":"bpm","partition":0,"offset":{i},"timestamp":{second}}}\n'
        )
        if len(lines) == 10_000:
            out.write("".join(lines).encode("utf-8"))
            lines.clear()
    out.write("".join(lines).encode("utf-8"))
    return readings
