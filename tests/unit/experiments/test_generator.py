"""The seeded generator: same seed, same events; the manifest says exactly what was planted."""

from __future__ import annotations

import json
import shutil
from collections import Counter, defaultdict
from datetime import timedelta

import pytest

from medallion.errors import MedallionError
from medallion.pipelines.experiments import generator, landing
from medallion.pipelines.experiments.operational import TESTS
from medallion.platform.config import load_settings
from medallion.sources.landing import LandingZone


@pytest.fixture(scope="module")
def planted():
    return generator.generate(scale=400, seed=3)


def test_the_same_seed_gives_the_same_events_and_another_seed_others(planted):
    again = generator.generate(scale=400, seed=3)
    assert again.platform_events == planted.platform_events and again.business_events == planted.business_events
    assert generator.generate(scale=400, seed=4).business_events != planted.business_events


def test_duplicates_late_events_and_malformed_lines_are_counted_exactly(planted):
    manifest = planted.manifest
    for stream in ("platform_events", "business_events"):
        events = getattr(planted, stream)
        ids = Counter(e["event_id"] for e in events)
        assert len(events) - len(ids) == manifest["duplicates"][stream] > 0
        late = {e["event_id"] for e in events if (e["arrival_date"] - e["event_time"].date()).days >= 1}
        assert len(late) == manifest["late_events"][stream] > 0
        assert manifest["rows"][stream] == len(events)
    assert manifest["malformed_records"] == {"platform_events": 1, "business_events": 2}


def test_each_user_is_assigned_one_variation_and_contamination_is_counted(planted):
    seen = defaultdict(set)
    assigned = {}
    for event in planted.platform_events:
        seen[(event["user_id"], event["test_code"])].add(event["variation"])
        if event["event_type"] == "assignment":
            assert assigned.setdefault((event["user_id"], event["test_code"]), event["variation"]) == event["variation"]
    for test_code, summary in planted.manifest["tests"].items():
        users = [key for key in seen if key[1] == test_code]
        assert len(users) == summary["users"] == sum(summary["variations"].values())
        assert sum(len(seen[key]) > 1 for key in users) == summary["contaminated_users"]


def test_events_stay_inside_each_test_window(planted):
    windows = {test[0]: (test[4], test[5]) for test in TESTS}
    for event in planted.platform_events:
        started, finished = windows[event["test_code"]]
        assert event["event_time"] >= started - timedelta(minutes=10)
        assert finished is None or event["event_time"] < finished


def test_a_no_effect_data_set_plants_neither_lift_nor_mismatch():
    no_effect = generator.generate(scale=50, seed=3, planted=False)
    assert no_effect.manifest["lift"] is None and no_effect.manifest["sample_ratio_mismatch"] is None
    assert no_effect.manifest["planted_effects"] is False


def test_the_producer_lands_daily_partitions_once_and_refuses_another_data_set(tmp_path):
    zone = LandingZone(load_settings("local", root=str(tmp_path)).landing, "experiments")
    quiet = lambda message: None  # noqa: E731
    manifest = landing.produce(zone, scale=60, seed=1, progress=quiet)
    folder = tmp_path / "landing" / "experiments"
    files = sorted(folder.rglob("*.json"))
    assert [p.name for p in files if p.parent == folder] == ["manifest.json"]
    day_files = [p for p in files if p.parent != folder]
    assert day_files and all(p.parent.name == f"arrival_date={p.stem[-10:]}" for p in day_files)
    stamps = {p: p.stat().st_mtime_ns for p in files}

    assert landing.produce(zone, scale=60, seed=1, progress=quiet) == manifest
    assert {p: p.stat().st_mtime_ns for p in files} == stamps
    assert json.loads((folder / "manifest.json").read_text())["seed"] == 1
    with pytest.raises(MedallionError, match="already holds the data set scale=60 seed=1"):
        landing.produce(zone, scale=60, seed=2, progress=quiet)
    for stream in landing.STREAMS:  # what `medallion reset experiments` removes
        shutil.rmtree(folder / stream)
    assert landing.produce(zone, scale=60, seed=2, progress=quiet)["seed"] == 2
