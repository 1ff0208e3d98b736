"""The approved plan is the applied plan: ``deploy --plan --out plan.json`` saves what the deploy would do,
``deploy --apply plan.json`` plans again and applies only if it is exactly that plan.

The saved plan records every pending change with the content hash of each upload and the settings hash of
each job, so a different wheel, a conf change, or anything edited in the workspace since (a job, a
notebook, a permission) makes the new plan differ, and the apply stops before writing anything.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from deployment.plan import Change, Plan
from deployment.state import settings_hash
from medallion.errors import MedallionError

FORMAT = 1


def fingerprint(plan: Plan) -> list[list[str]]:
    return [[c.action, c.kind, c.name, c.detail, _content(c)] for c in plan.pending]


def _content(change: Change) -> str:
    if change.upload is not None:
        return change.upload.sha256
    if change.job_settings is not None:
        return settings_hash(change.job_settings.as_dict())
    return ""


def save(plan: Plan, path: Path) -> str:
    """Write the plan; returns its digest (shown in the log, so an approver can match it)."""
    changes = fingerprint(plan)
    digest = hashlib.sha256(json.dumps(changes).encode()).hexdigest()
    document = {
        "format": FORMAT,
        "env": plan.env,
        "host": plan.host,
        "folder": plan.folder,
        "digest": digest,
        "rendered": plan.render(),
        "changes": changes,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2) + "\n")
    return digest


def check(plan: Plan, path: Path) -> str:
    """Raise unless ``plan`` (computed now) is the plan saved in ``path``; returns the digest."""
    try:
        saved = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise MedallionError(f"Cannot read the approved plan {path} ({err}): save one with --plan --out.") from None
    if saved.get("format") != FORMAT or saved.get("env") != plan.env:
        raise MedallionError(f"{path} is a plan for {saved.get('env')!r}, not {plan.env!r}: nothing applied.")
    now = fingerprint(plan)
    if now != saved["changes"]:
        added = [" ".join(c[:3]) for c in now if c not in saved["changes"]]
        gone = [" ".join(c[:3]) for c in saved["changes"] if c not in now]
        raise MedallionError(
            f"Nothing applied: {plan.env} or this checkout changed since the plan in {path} was saved "
            f"(now also: {', '.join(added) or 'nothing'}; no longer: {', '.join(gone) or 'nothing'}). "
            "Plan again and have the new plan approved."
        )
    return saved["digest"]
