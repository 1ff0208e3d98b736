"""The producer (notebook 10): drops data set N into the landing zone, as the devices' systems would.

Sets 1 and 2 are the published files (users, profiles, workouts, gym logins); heart-rate files are
generated for sets 1 to 10: set N belongs to device 118440 (odd N) or 175406 (even N), one reading per
second from that device's registration (later sets continue where the previous one of that device
ended), heartrate uniform in [35, 95) from a seed fixed per set.

Files are written under a hidden name and renamed into place, so a running stream never reads half a
file; a file already landed is left alone, so producing a set twice changes nothing.
"""
from __future__ import annotations

import random
import shutil
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path
from typing import Mapping

from medallion.config import Settings
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


def data_file(name: str) -> Path:
    return Path(str(resources.files("medallion.pipelines.fitness") / "data" / name))


def produce(settings: Settings, set_number: int, progress=print) -> list[str]:
    """Land set ``set_number``; returns the landed file paths (already-landed files included)."""
    if not 1 <= set_number <= GENERATED_BPM_SETS:
        raise MedallionError(f"fitness has sets 1 to {GENERATED_BPM_SETS} (files for 1-{PUBLISHED_SETS}, heart rate for all).")
    conf = settings.pipeline("fitness")
    landed = []
    if set_number <= PUBLISHED_SETS:
        for folder, pattern in PUBLISHED_FILES:
            name = pattern.format(n=set_number)
            landed.append(_land(settings, folder, name, lambda tmp, src=data_file(name): shutil.copyfile(src, tmp)))
    bpm_name = f"3-bpm_{set_number}.json"
    landed.append(_land(settings, "kafka_multiplex_bz", bpm_name,
                        lambda tmp: write_bpm_file(tmp, set_number, conf)))
    progress(f"[fitness] set {set_number}: {len(landed)} files in {settings.landing}")
    return landed


def land_date_lookup(settings: Settings) -> str:
    return _land(settings, "date_lookup", DATE_LOOKUP_FILE,
                 lambda tmp: shutil.copyfile(data_file(DATE_LOOKUP_FILE), tmp))


def write_bpm_file(path: Path, set_number: int, conf: Mapping) -> int:
    """One JSON line per reading in the Kafka-dump envelope of the published files (epoch seconds)."""
    device, registered = BPM_DEVICES[2 - set_number % 2]
    readings = int(conf["bpm_readings_per_set"])
    first = registered + ((set_number - 1) // 2) * readings
    generator = random.Random(int(conf["bpm_seed"]) + set_number)
    with open(path, "w", encoding="utf-8") as out:
        for i in range(readings):
            second = first + i
            heartrate = 35 + 60 * generator.random()
            time_text = datetime.fromtimestamp(second, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
            value = f'{{\\"device_id\\": {device}, \\"time\\": \\"{time_text}\\", \\"heartrate\\": {heartrate!r}}}'
            out.write(f'{{"key":"{device}","value":"{value}","topic":"bpm","partition":0,'
                      f'"offset":{i},"timestamp":{second}}}\n')
    return readings


def _land(settings: Settings, folder: str, name: str, write) -> str:
    directory = Path(settings.landing_path(folder))
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / name
    if not target.exists():
        hidden = directory / f".{name}.tmp"
        write(hidden)
        hidden.rename(target)
    return str(target)
