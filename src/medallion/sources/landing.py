"""The landing zone: the one module that writes (and reads back) landing files.

Every writer goes through here: the producers and history loaders (:class:`LandingZone`, one pipeline's
zone) and ``medallion upload`` (:func:`landing_for` + :func:`upload`). ``storage.landing`` is one of:

- a local folder (laptop, CI);
- a Unity Catalog volume path ``/Volumes/<catalog>/<schema>/<volume>/…``: a plain file path on a
  Databricks cluster, which Auto Loader and file APIs both read and write;
- an ``abfss://<container>@<account>.dfs.core.windows.net/<dir>`` URL, written through the ADLS Gen2
  SDK (azure-storage-file-datalake, an azure-identity credential). From outside the workspace
  ``medallion upload`` reaches a volume the same way, through ``storage.landing_upload`` (the volume's
  storage location).

A URL is never turned into a ``pathlib.Path`` (``Path("abfss://…")`` is a relative local folder): the
root is classified once (:func:`store_for`) and each kind has its own :class:`LandingStore`. Either way a
file is written under a hidden name and renamed into place, so Auto Loader or the file stream source never
sees half a file, and a file already landed is left alone: landing twice changes nothing.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import urlparse

from medallion.errors import ConfigError, MedallionError
from medallion.platform.config import Settings


@dataclass(frozen=True)
class LandingFile:
    local: Path
    relative: str  # path under the landing root, e.g. gym_logins_bz/5-gym_logins_1.csv


class LandingStore(Protocol):
    """The files under one landing root, addressed by paths relative to it (``folder/…/name``)."""

    where: str

    def put(self, file: LandingFile) -> bool:
        """Land one file; False when an identical file was already there."""

    def exists(self, relative: str) -> bool:
        """Whether a file is there."""

    def read(self, relative: str) -> bytes:
        """A landed file's bytes."""


Landing = LandingStore  # the name the upload command knows


class LocalLanding:
    """A folder reached with file APIs: a local folder, or a Unity Catalog volume path on a cluster."""

    def __init__(self, root: Path):
        self.root = root
        self.where = str(root)

    def exists(self, relative: str) -> bool:
        return (self.root / relative).is_file()

    def read(self, relative: str) -> bytes:
        return (self.root / relative).read_bytes()

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
        service = DataLakeServiceClient(
            account_url, credential=credential or DefaultAzureCredential(), **client_options
        )
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
                "Contributor on the landing container."
            ) from None

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
            hidden.upload_data(
                data,
                length=file.local.stat().st_size,
                overwrite=True,
                content_settings=ContentSettings(content_md5=bytearray(digest)),
            )
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


def is_url(root: str) -> bool:
    return "://" in root


def is_volume_path(root: str) -> bool:
    """A Unity Catalog volume path (``/Volumes/<catalog>/<schema>/<volume>/…``)."""
    return root.startswith("/Volumes/")


def store_for(root: str, credential=None, adls=None) -> LandingStore:
    """The store of a landing root: ADLS Gen2 for ``abfss://``, file APIs for a folder or volume path.
    ``adls`` builds the ADLS store (:class:`AdlsLanding` unless given: a test passes a fake)."""
    if root.startswith(("abfss://", "abfs://")):
        account_url, file_system, base = parse_abfss(root)
        return (adls or AdlsLanding)(account_url, file_system, base, credential)
    if is_url(root):
        raise ConfigError(
            f"storage.landing {root!r}: a landing zone is a local folder, a /Volumes/ path or an abfss:// URL."
        )
    return LocalLanding(Path(root))


def landing_for(settings: Settings, credential=None, adls=None) -> LandingStore:
    """Where ``medallion upload`` writes: the environment's landing root, seen from outside the workspace."""
    return store_for(reachable_root(settings.landing, settings.landing_upload, settings.env), credential, adls)


def reachable_root(root: str, upload_root: str | None, env: str = "") -> str:
    """The landing root as this process can write it. A volume path is a file path only on a cluster
    (where ``/Volumes`` is mounted); elsewhere the files go to the volume's storage location
    (``storage.landing_upload``, an ``abfss://`` URL) through the ADLS Gen2 SDK."""
    if not is_volume_path(root) or Path("/Volumes").is_dir():
        return root
    if not upload_root:
        where = f"conf/{env}.yml" if env else "the environment's conf file"
        raise ConfigError(
            f"storage.landing is the volume {root}, which only a Databricks cluster can write as a path: set "
            f"storage.landing_upload in {where} to the volume's storage location "
            "(abfss://<container>@<account>.dfs.core.windows.net/<dir>) to land files from here."
        )
    return upload_root


def parse_abfss(url: str) -> tuple[str, str, str]:
    """``abfss://landing@acct.dfs.core.windows.net/some/dir`` → (https account URL, file system, base dir)."""
    parsed = urlparse(url)
    if "@" not in parsed.netloc:
        raise ConfigError(f"{url!r} is not an abfss://<container>@<account>.dfs.core.windows.net URL.")
    file_system, host = parsed.netloc.split("@", 1)
    return f"https://{host}", file_system, parsed.path.strip("/")


def is_hidden(name: str) -> bool:
    """Whether Spark's file sources skip a file or folder of this name (Hadoop's rule, as Spark's file listing
    applies it): a name starting with ``.``, or with ``_`` unless it holds ``=`` (a partition folder such as
    ``_source=crm``) or starts ``_metadata`` / ``_common_metadata``, and a copy in progress (``…._COPYING_``)."""
    skipped = name.startswith(".") or (name.startswith("_") and "=" not in name) or name.endswith("._COPYING_")
    return skipped and not name.startswith(("_common_metadata", "_metadata"))


def files_under(folder: Path, prefix: str = "") -> list[LandingFile]:
    """Every visible file under ``folder`` (hidden and partial files skipped), relative to it."""
    found = []
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if path.is_file() and not any(is_hidden(part) for part in relative.parts):
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
    landing files for producers and history loaders: every file is written whole under a hidden name and
    then renamed into place, and an existing file is left alone, so producing twice changes nothing.

    A local folder or a Unity Catalog volume path (a file path on a Databricks cluster) is written with
    file APIs; an ``abfss://`` URL through the ADLS Gen2 SDK, and so is a volume written from outside a
    cluster (through ``upload_root``, its storage location). The content is staged in a local temporary
    file first either way. ``store`` replaces the store :func:`store_for` would pick (tests)."""

    def __init__(
        self,
        root: str,
        pipeline: str,
        credential=None,
        store: LandingStore | None = None,
        upload_root: str | None = None,
    ):
        self.root = root.rstrip("/")
        self.pipeline = pipeline
        self._credential = credential
        self._store = store
        self._upload_root = upload_root  # storage.landing_upload: a volume's location, used off the cluster

    def path(self, *parts: str) -> str:
        """The location of a folder or file of this pipeline's zone, as Spark and Auto Loader read it."""
        return "/".join([self.root, self.pipeline, *[p.strip("/") for p in parts if p]])

    @property
    def is_remote(self) -> bool:
        return is_url(self.root)

    @property
    def store(self) -> LandingStore:
        if self._store is None:  # built on first use: an ADLS client only when a file is written or read
            self._store = store_for(reachable_root(self.root, self._upload_root), self._credential)
        return self._store

    def exists(self, folder: str, name: str) -> bool:
        return self.store.exists(self._relative(folder, name))

    def write(self, folder: str, name: str, fill) -> str:
        """Land file ``name`` in ``folder``, its content written by ``fill(binary_file)``; an existing file
        is kept. Returns the file's location."""
        target = self.path(folder, name)
        if self.exists(folder, name):
            return target
        self._put(folder, name, fill)
        return target

    def replace(self, folder: str, name: str, fill) -> str:
        """Land file ``name``, replacing a file of other content (e.g. a stale manifest), still atomically."""
        self._put(folder, name, fill)
        return self.path(folder, name)

    def write_text(self, folder: str, name: str, text: str) -> str:
        return self.write(folder, name, lambda out: out.write(text.encode("utf-8")))

    def write_text_once(self, folder: str, name: str, text: str) -> str:
        """Land a text file that, when already there, must hold the same text: a producer asked for other data
        under a name it landed before (another scale or seed) would otherwise leave two data sets mixed."""
        landed = self.read_text(folder, name)
        if landed is None:
            return self.write_text(folder, name, text)
        if landed != text:
            raise MedallionError(
                f"{self.path(folder, name)} is already landed with other content: the data asked for (another "
                f"scale or seed?) would mix with the data there. Produce it as before, or reset the pipeline "
                f"(`medallion reset {self.pipeline}`) and produce again."
            )
        return self.path(folder, name)

    def read_text(self, folder: str, name: str) -> str | None:
        """A landed file's text (None when it is not there): e.g. a producer's manifest."""
        if not self.exists(folder, name):
            return None
        return self.store.read(self._relative(folder, name)).decode("utf-8")

    def _put(self, folder: str, name: str, fill) -> None:
        import tempfile

        with tempfile.TemporaryDirectory(prefix="medallion-landing-") as staging:
            local = Path(staging) / name
            with open(local, "wb") as out:
                fill(out)
            self.store.put(LandingFile(local, self._relative(folder, name)))

    def _relative(self, folder: str, name: str) -> str:
        """The file's path under the landing root (the store's address)."""
        return "/".join(p.strip("/") for p in (self.pipeline, folder, name) if p and p.strip("/"))
