"""The deployment state: what this project created in an environment, kept in the workspace folder.

It is how a re-run recognises an unchanged upload without downloading it (content hashes), how a job
whose settings lost a field is still seen as changed (settings hash), and how ``--destroy`` knows what
is ours: only what the state lists (and jobs carrying our tags) is ever deleted.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

STATE_FILE = ".medallion-deployment.json"
FORMAT_VERSION = 1


@dataclass
class JobRecord:
    job_id: int
    settings_sha256: str


@dataclass
class DeploymentState:
    env: str
    uploads: dict[str, str] = field(default_factory=dict)  # workspace path → sha256 of the content
    folders: list[str] = field(default_factory=list)  # folders this project created
    jobs: dict[str, JobRecord] = field(default_factory=dict)  # job name → id and settings hash
    # workspace path → its modified_at (ms) right after the deploy wrote it: a later hand edit changes it
    modified_at: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> str:
        data = {
            "project": "medallion",
            "format": FORMAT_VERSION,
            "env": self.env,
            "uploads": dict(sorted(self.uploads.items())),
            "folders": sorted(set(self.folders)),
            "jobs": {
                name: {"job_id": r.job_id, "settings_sha256": r.settings_sha256}
                for name, r in sorted(self.jobs.items())
            },
            "modified_at": dict(sorted(self.modified_at.items())),
        }
        return json.dumps(data, indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str, env: str) -> DeploymentState:
        data = json.loads(text)
        if data.get("project") != "medallion" or data.get("env") != env:
            raise ValueError(f"the state file belongs to project {data.get('project')!r}, env {data.get('env')!r}")
        return cls(
            env=env,
            uploads=dict(data.get("uploads", {})),
            folders=list(data.get("folders", [])),
            jobs={name: JobRecord(int(r["job_id"]), r["settings_sha256"]) for name, r in data.get("jobs", {}).items()},
            modified_at={path: int(ms) for path, ms in data.get("modified_at", {}).items()},
        )


def settings_hash(settings_dict: dict) -> str:
    return hashlib.sha256(json.dumps(settings_dict, sort_keys=True).encode()).hexdigest()
