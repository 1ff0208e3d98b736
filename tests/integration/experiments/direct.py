"""An independent computation of the gold tables from the landed files, in plain Python (no Spark).

It reads the JSON lines as an analyst would, applies the definitions the README states, and counts.
The statistics come from SciPy. Nothing here imports the pipeline's transforms.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import numpy as np
from scipy import stats as scipy_stats

STATUS_REPORTED = {"running", "done"}
# test_code → (status name, finished_at, variation_count), as seeded in the operational database
TESTS = {
    "T001": ("done", datetime(2024, 3, 15), 2),
    "T002": ("done", datetime(2024, 3, 15), 2),
    "T003": ("failed", datetime(2024, 3, 5), 2),
    "T004": ("running", None, 3),
    "T005": ("running", None, 2),
}
TEST_METRICS = {
    "T001": ("M001", "M002", "M003", "M004"),
    "T002": ("M001", "M002", "M003"),
    "T003": ("M003", "M004"),
    "T004": ("M001", "M003", "M004"),
    "T005": ("M002", "M003", "M004"),
}
METRICS = {  # metric_code → (kind, value of one user's events)
    "M001": ("mean", lambda evs: sum(e["event_name"] == "click" for e in evs)),
    "M002": ("mean", lambda evs: sum(e["event_name"] == "screen_view" for e in evs)),
    "M003": ("proportion", lambda evs: int(any(e["event_path"] == "/purchase" for e in evs))),
    "M004": ("mean", lambda evs: sum(e["revenue"] or 0 for e in evs)),
}


@dataclass
class Landed:
    platform_rows: list[dict] = field(default_factory=list)  # every parsed row, duplicates included
    business_rows: list[dict] = field(default_factory=list)
    malformed: int = 0


def read_landing(folder: Path) -> Landed:
    landed = Landed()
    for stream in ("platform_events", "business_events"):
        for path in sorted((folder / stream).glob("arrival_date=*/*.json")):
            arrival = date.fromisoformat(path.parent.name.split("=", 1)[1])
            for line in path.read_text().splitlines():
                try:
                    row = json.loads(line)
                except json.JSONDecodeError:
                    landed.malformed += 1
                    continue
                row["event_time"] = datetime.strptime(row["event_time"], "%Y-%m-%dT%H:%M:%SZ")
                row["arrival_date"] = arrival
                getattr(landed, stream.replace("_events", "_rows")).append(row)
    return landed


def test_users(landed: Landed) -> dict[tuple[str, str], dict]:
    """(user, test) → first-exposure variation and time, contaminated."""
    exposures = {r["event_id"]: r for r in landed.platform_rows if r["event_type"] == "exposure"}
    grouped: dict = defaultdict(list)
    for row in exposures.values():
        grouped[(row["user_id"], row["test_code"])].append(row)
    users = {}
    for key, rows in grouped.items():
        first = min(rows, key=lambda r: (r["event_time"], r["variation"], r["event_id"]))
        users[key] = {
            "variation": first["variation"],
            "first": first["event_time"],
            "contaminated": len({r["variation"] for r in rows}) > 1,
        }
    return users


def business_metrics(landed: Landed) -> dict[tuple[str, str, str], dict]:
    """(test, metric, variation) → users, value, and the per-user values (for SciPy)."""
    users = test_users(landed)
    events_by_user: dict = defaultdict(list)
    for row in {r["event_id"]: r for r in landed.business_rows}.values():
        events_by_user[row["user_id"]].append(row)
    values: dict = defaultdict(list)
    for (user_id, test_code), user in users.items():
        status, finished, _ = TESTS[test_code]
        if status not in STATUS_REPORTED or user["contaminated"]:
            continue
        in_window = [
            e
            for e in events_by_user[user_id]
            if e["event_time"] >= user["first"] and (finished is None or e["event_time"] < finished)
        ]
        for metric_code in TEST_METRICS[test_code]:
            values[(test_code, metric_code, user["variation"])].append(METRICS[metric_code][1](in_window))
    return {
        key: {"users": len(v), "value": float(np.mean(v)), "values": np.array(v, dtype=float)}
        for key, v in values.items()
    }


def comparison(metrics: dict, test_code: str, metric_code: str, variation: str) -> tuple[float, float]:
    """(difference to control, two-sided p-value) by SciPy: chi-square of the 2×2 table without continuity
    correction (the square of the pooled z-test) for proportions, Welch's t-test for means."""
    control, treatment = metrics[(test_code, metric_code, "A")], metrics[(test_code, metric_code, variation)]
    difference = treatment["value"] - control["value"]
    if METRICS[metric_code][0] == "proportion":
        table = [
            [treatment["values"].sum(), treatment["users"] - treatment["values"].sum()],
            [control["values"].sum(), control["users"] - control["values"].sum()],
        ]
        return difference, float(scipy_stats.chi2_contingency(table, correction=False)[1])
    return difference, float(scipy_stats.ttest_ind(treatment["values"], control["values"], equal_var=False).pvalue)


def quality(landed: Landed, late_after_days: int = 1) -> dict[tuple[str, str, str | None], float]:
    users = test_users(landed)
    result: dict = {}
    per_test: dict = defaultdict(list)
    for (user_id, test_code), user in users.items():
        per_test[test_code].append((user_id, user))
    business_by_user: dict = defaultdict(list)
    for row in landed.business_rows:
        business_by_user[row["user_id"]].append(row)
    unique_business = {r["event_id"]: r for r in landed.business_rows}
    active_users = defaultdict(set)
    for row in unique_business.values():
        active_users[row["user_id"]].add(row["event_time"])
    for test_code, members in per_test.items():
        for variation in {u["variation"] for _, u in members}:
            result[(test_code, "sample_size", variation)] = float(sum(u["variation"] == variation for _, u in members))
        counts = [sum(u["variation"] == v for _, u in members) for v in sorted({u["variation"] for _, u in members})]
        counts += [0] * (TESTS[test_code][2] - len(counts))
        result[(test_code, "sample_ratio_mismatch", None)] = float(scipy_stats.chisquare(counts).pvalue)
        result[(test_code, "contamination_rate", None)] = sum(u["contaminated"] for _, u in members) / len(members)
        idle = sum(not any(t >= u["first"] for t in active_users[user_id]) for user_id, u in members)
        result[(test_code, "exposure_without_events_rate", None)] = idle / len(members)
        rows = [r for r in landed.platform_rows if r["test_code"] == test_code]
        rows += [r for user_id, u in members for r in business_by_user[user_id] if r["event_time"] >= u["first"]]
        distinct: dict = {}
        for row in rows:
            known = distinct.setdefault(row["event_id"], row)
            if row["arrival_date"] < known["arrival_date"]:
                distinct[row["event_id"]] = row
        result[(test_code, "duplicate_event_rate", None)] = 1 - len(distinct) / len(rows)
        late = sum((r["arrival_date"] - r["event_time"].date()).days >= late_after_days for r in distinct.values())
        result[(test_code, "late_event_rate", None)] = late / len(distinct)
    return result
