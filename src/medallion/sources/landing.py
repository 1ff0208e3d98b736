"""Sending files to the landing zone from outside Databricks (``medallion upload``).

The landing zone is ``storage.landing``: an ``abfss://`` URL on Azure (ADLS Gen2, written with
azure-storage-file-datalake and an azure-identity credential), a folder locally. Either way a file is
written under a hidden name and renamed into place, so Auto Loader or the file stream source never sees
half a file, and a file already landed with the same content is left alone: uploading twice changes
nothing.
"""
from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Protocol
from urllib.parse import urlparse

from medallion.platform.config import Settings
from medallion.errors import ConfigError, MedallionError


@dataclass(frozen=True)
class LandingFile:
    local: Path
    relative: str  # path under the landing root, e.g. gym_logins_bz/5-gym_logins_1.csv


class Landing(Protocol):
    where: str

    def put(self, file: LandingFile) -> bool:
        """Land one file; False when an identical file was already there."""


class LocalLanding:
    def __init__(self, root: Path):
        self.root = root
        self.where = str(root)

    def put(self, file: LandingFile) -> bool:
        target = self.root / file.relative
        if target.exists() and _md5(target) == _md5(file.local):
            return False
        target.parent.mkdir(parents=True, exist_ok=True)
        hidden = target.parent / f".{target.name}.uploading"
        shutil.copyfile(file.local, hidden)
        hidden.replace(target)
        return True


class AdlsLanding:
    """An ADLS Gen2 file system (container), optionally under a base directory."""

    def __init__(self, account_url: str, file_system: str, base: str = "", credential=None, **client_options):
        from azure.identity import DefaultAzureCredential
        from azure.storage.filedatalake import DataLakeServiceClient

        self.where = f"{account_url.rstrip('/')}/{file_system}/{base}".rstrip("/")
        service = DataLakeServiceClient(account_url, credential=credential or DefaultAzureCredential(), **client_options)
        self.file_system = service.get_file_system_client(file_system)
        self.base = base.strip("/")
        self._ready = False

    def put(self, file: LandingFile) -> bool:
        from azure.core.exceptions import HttpResponseError

        try:
            return self._put(file)
        except HttpResponseError as err:
            raise MedallionError(
                f"Upload of {file.relative} to {self.where} failed ({err.status_code} {err.reason}): check that your "
                "identity (az login, or AZURE_CLIENT_ID/AZURE_TENANT_ID/AZURE_CLIENT_SECRET) has Storage Blob Data "
                "Contributor on the landing container.") from None

    def _put(self, file: LandingFile) -> bool:
        from azure.core.exceptions import ResourceNotFoundError
        from azure.storage.filedatalake import ContentSettings

        self._ensure_file_system()
        path = f"{self.base}/{file.relative}".strip("/")
        digest = _md5(file.local)
        target = self.file_system.get_file_client(path)
        try:
            existing = target.get_file_properties()
            if existing.size == file.local.stat().st_size and existing.content_settings.content_md5 == digest:
                return False
        except ResourceNotFoundError:
            pass
        directory, _, name = path.rpartition("/")
        hidden = self.file_system.get_file_client(f"{directory}/.{name}.uploading".lstrip("/"))
        with open(file.local, "rb") as data:
            hidden.upload_data(data, length=file.local.stat().st_size, overwrite=True,
                               content_settings=ContentSettings(content_md5=bytearray(digest)))
        hidden.rename_file(f"{self.file_system.file_system_name}/{path}")
        return True

    def exists(self, relative: str) -> bool:
        from azure.core.exceptions import ResourceNotFoundError

        try:
            self.file_system.get_file_client(f"{self.base}/{relative}".strip("/")).get_file_properties()
            return True
        except ResourceNotFoundError:
            return False

    def read(self, relative: str) -> bytes:
        return self.file_system.get_file_client(f"{self.base}/{relative}".strip("/")).download_file().readall()

    def _ensure_file_system(self) -> None:
        from azure.core.exceptions import ResourceExistsError

        if self._ready:
            return
        try:
            self.file_system.create_file_system()
        except ResourceExistsError:
            pass
        self._ready = True


def landing_for(settings: Settings, credential=None) -> Landing:
    if settings.landing.startswith(("abfss://", "abfs://")):
        account_url, file_system, base = parse_abfss(settings.landing)
        return AdlsLanding(account_url, file_system, base, credential)
    if "://" in settings.landing:
        raise ConfigError(f"storage.landing {settings.landing!r}: upload supports abfss:// URLs and local folders.")
    return LocalLanding(Path(settings.landing))


def parse_abfss(url: str) -> tuple[str, str, str]:
    """``abfss://landing@acct.dfs.core.windows.net/some/dir`` → (https account URL, file system, base dir)."""
    parsed = urlparse(url)
    if "@" not in parsed.netloc:
        raise ConfigError(f"{url!r} is not an abfss://<container>@<account>.dfs.core.windows.net URL.")
    file_system, host = parsed.netloc.split("@", 1)
    return f"https://{host}", file_system, parsed.path.strip("/")


def files_under(folder: Path, prefix: str = "") -> list[LandingFile]:
    """Every visible file under ``folder`` (hidden and partial files skipped), relative to it."""
    found = []
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if path.is_file() and not any(part.startswith((".", "_")) for part in relative.parts):
            found.append(LandingFile(path, "/".join(filter(None, [prefix.strip("/"), relative.as_posix()]))))
    return found


def single_file(path: Path, folder: str = "") -> list[LandingFile]:
    return [LandingFile(path, "/".join(filter(None, [folder.strip("/"), path.name])))]


def upload(landing: Landing, files: Iterable[LandingFile], progress=print) -> tuple[int, int]:
    """Land ``files``; returns (landed, already there)."""
    landed = unchanged = 0
    for file in files:
        if landing.put(file):
            landed += 1
            progress(f"  landed {file.relative}")
        else:
            unchanged += 1
    progress(f"{landed} files landed in {landing.where}, {unchanged} already there")
    return landed, unchanged


def _md5(path: Path) -> bytes:
    digest = hashlib.md5()
    with open(path, "rb") as data:
        for block in iter(lambda: data.read(1 << 20), b""):
            digest.update(block)
    return digest.digest()


# ------------------------------------------------------------------------------ the landing zone writer
class LandingZone:
    """One pipeline's landing zone: ``<storage.landing>/<pipeline>/<folder>/<file>``. The one writer of
    landing files (producers, history loaders): every file is written whole under a hidden name and then
    renamed into place, and an existing file is left alone, so producing twice changes nothing.

    A local folder or a Unity Catalog volume path (``/Volumes/<catalog>/<schema>/<volume>/…``, a file
    path on a Databricks cluster) is written with file APIs; an ``abfss://`` URL through the ADLS Gen2
    SDK (the file is staged in a local temporary folder first)."""

    def __init__(self, root: str, pipeline: str, credential=None):
        self.root = root.rstrip("/")
        self.pipeline = pipeline
        self._credential = credential

    def path(self, *parts: str) -> str:
        """The location of a folder or file of this pipeline's zone, as Spark and Auto Loader read it."""
        return "/".join([self.root, self.pipeline, *[p.strip("/") for p in parts if p]])

    @property
    def is_remote(self) -> bool:
        return "://" in self.root

    def exists(self, folder: str, name: str) -> bool:
        if not self.is_remote:
            return Path(self.path(folder, name)).exists()
        return self._remote().exists(f"{self.pipeline}/{folder}/{name}")

    def write(self, folder: str, name: str, fill) -> str:
        """Land file ``name`` in ``folder``, its content written by ``fill(binary_file)``; an existing file
        is kept. Returns the file's location."""
        target = self.path(folder, name)
        if self.exists(folder, name):
            return target
        if not self.is_remote:
            directory = Path(self.path(folder))
            directory.mkdir(parents=True, exist_ok=True)
            hidden = directory / f".{name}.tmp"
            with open(hidden, "wb") as out:
                fill(out)
            hidden.rename(directory / name)
            return target
        import tempfile

        with tempfile.TemporaryDirectory() as staging:
            local = Path(staging) / name
            with open(local, "wb") as out:
                fill(out)
            self._remote().put(LandingFile(local, f"{self.pipeline}/{folder}/{name}"))
        return target

    def write_text(self, folder: str, name: str, text: str) -> str:
        return self.write(folder, name, lambda out: out.write(text.encode("utf-8")))

    def read_text(self, folder: str, name: str) -> str | None:
        """A landed file's text (None when it is not there): e.g. a producer's manifest."""
        if not self.exists(folder, name):
            return None
        if not self.is_remote:
            return Path(self.path(folder, name)).read_text(encoding="utf-8")
        return self._remote().read(f"{self.pipeline}/{folder}/{name}").decode("utf-8")

    def _remote(self) -> "AdlsLanding":
        if not self.root.startswith(("abfss://", "abfs://")):
            raise ConfigError(f"storage.landing {self.root!r}: a landing zone is a local folder, a /Volumes/ path "
                              "or an abfss:// URL.")
        account_url, file_system, base = parse_abfss(self.root)
        return AdlsLanding(account_url, file_system, base, self._credential)
