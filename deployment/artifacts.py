"""What a deployment uploads: the wheel, the notebooks (Databricks source format) and ``conf/``.

Each upload knows its workspace path and content hash. The wheel goes under ``artifacts/<hash>/`` so a
changed wheel gets a new path (a job never runs a half-replaced library) and an unchanged one is
recognised without downloading it.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from medallion.errors import MedallionError

NOTEBOOK_HEADER = "# Databricks notebook source"
# role → the notebook file stem's suffix (files are named NN-<role>.py)
NOTEBOOK_ROLES = {
    "setup": "setup",
    "bronze": "bronze",
    "silver": "silver",
    "gold": "gold",
    "run": "run",
    "batch_test": "batch-test",
}
REPRODUCIBLE_EPOCH = "315532800"  # 1980-01-01: zip timestamps fixed, so the same source gives the same wheel


@dataclass(frozen=True)
class Upload:
    kind: str  # notebook | file | wheel
    remote: str  # workspace API path (notebooks without their .py extension)
    content: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


@dataclass(frozen=True)
class Artifacts:
    """Everything one deployment uploads, plus where the job tasks find it."""

    uploads: tuple[Upload, ...]
    wheel: Upload
    notebook_paths: dict  # role → workspace path of the notebook

    @property
    def folders(self) -> list[str]:
        return sorted({u.remote.rsplit("/", 1)[0] for u in self.uploads})

    def notebook(self, role: str) -> str:
        try:
            return self.notebook_paths[role]
        except KeyError:
            raise MedallionError(
                f"notebooks/ has no NN-{NOTEBOOK_ROLES[role]}.py notebook, which the jobs need for their "
                f"'{role}' task. Notebooks found: {', '.join(sorted(self.notebook_paths.values())) or 'none'}."
            ) from None


def collect(folder: str, notebooks_dir: Path, conf_dir: Path, env: str, wheel_file: Path) -> Artifacts:
    """The uploads of one deployment into workspace ``folder``: the conf it runs with is ``base.yml``
    and ``<env>.yml`` only, so the folder holds nothing of another environment."""
    notebooks = notebook_uploads(folder, notebooks_dir)
    confs = [
        Upload("file", f"{folder}/conf/{p.name}", p.read_bytes())
        for p in (conf_dir / "base.yml", conf_dir / f"{env}.yml")
    ]
    wheel = wheel_upload(folder, wheel_file)
    return Artifacts(uploads=(wheel, *notebooks, *confs), wheel=wheel, notebook_paths=notebook_roles(notebooks))


def notebook_roles(notebooks: list[Upload]) -> dict[str, str]:
    """role → workspace path of its notebook (NN-<role>.py)."""
    roles = {}
    for upload in notebooks:
        stem = upload.remote.rsplit("/", 1)[1]
        for role, suffix in NOTEBOOK_ROLES.items():
            if stem.split("-", 1)[-1] == suffix:
                roles[role] = upload.remote
    return roles


def notebook_uploads(folder: str, notebooks_dir: Path) -> list[Upload]:
    files = sorted(notebooks_dir.glob("*.py"))
    if not files:
        raise MedallionError(
            f"No notebooks in {notebooks_dir}: deploy uploads notebooks/*.py (Databricks source format)."
        )
    uploads = []
    for path in files:
        content = path.read_bytes()
        if not content.decode("utf-8", "replace").startswith(NOTEBOOK_HEADER):
            raise MedallionError(
                f"{path.name} is not a Databricks source notebook: its first line must be '{NOTEBOOK_HEADER}'."
            )
        uploads.append(Upload("notebook", f"{folder}/notebooks/{path.stem}", content))
    return uploads


def wheel_upload(folder: str, wheel_file: Path) -> Upload:
    if not wheel_file.name.endswith(".whl") or not wheel_file.is_file():
        raise MedallionError(f"{wheel_file} is not a wheel file.")
    content = wheel_file.read_bytes()
    digest = hashlib.sha256(content).hexdigest()[:16]
    return Upload("wheel", f"{folder}/artifacts/{digest}/{wheel_file.name}", content)


def build_wheel(project_dir: Path, out_dir: Path | None = None) -> Path:
    """Build the project's wheel (reproducibly) into ``out_dir`` (default ``dist/``); returns its path."""
    out_dir = out_dir or project_dir / "dist"
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        env = {**os.environ, "SOURCE_DATE_EPOCH": REPRODUCIBLE_EPOCH}
        command = [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--quiet",
            "--wheel-dir",
            scratch,
            str(project_dir),
        ]
        result = subprocess.run(command, env=env, capture_output=True, text=True)
        if result.returncode != 0:
            raise MedallionError(f"Building the wheel failed:\n{result.stderr.strip()[-2000:]}")
        built = list(Path(scratch).glob("medallion-*.whl"))
        if len(built) != 1:
            raise MedallionError(f"Expected one medallion wheel from the build, found {[p.name for p in built]}.")
        target = out_dir / built[0].name
        target.write_bytes(built[0].read_bytes())
    return target
