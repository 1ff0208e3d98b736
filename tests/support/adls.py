"""A local ADLS Gen2 account speaking the parts of the Blob and DFS REST protocols that
azure-storage-file-datalake uses to land a file: create the file system (container), read a path's
properties, create a path, append, flush (with its MD5) and rename. Path-style URLs
(``https://127.0.0.1:port/<account>/...``), as the SDK uses for emulators, so one server is both the
``blob`` and the ``dfs`` endpoint.

Azurite, Microsoft's storage emulator, does not implement the DFS endpoint (append/flush/rename), so
it could not stand in here."""

from __future__ import annotations

import base64
import hashlib
import ssl
from dataclasses import dataclass, field
from email.utils import formatdate
from urllib.parse import unquote

from tests.support.http import LocalServer, Request, Response

ACCOUNT = "devstoreaccount1"
TOKEN = "local-storage-token"


@dataclass
class PathEntry:
    data: bytearray = field(default_factory=bytearray)
    committed: bytes = b""
    content_md5: bytes | None = None
    etag: int = 1


class FakeDataLake:
    def __init__(self, ssl_context: ssl.SSLContext):
        self.file_systems: dict[str, dict[str, PathEntry]] = {}
        self.operations: list[str] = []
        self.server = LocalServer(ssl_context)
        pattern = rf"/{ACCOUNT}/(?P<fs>[^/]+)(?P<path>/.*)?"
        for method in ("PUT", "PATCH", "HEAD", "GET"):
            self.server.route(method, pattern, self.dispatch)

    def __enter__(self):
        self.server.__enter__()
        return self

    def __exit__(self, *exc):
        self.server.__exit__(*exc)

    @property
    def account_url(self) -> str:
        return f"{self.server.url}/{ACCOUNT}"

    def files(self, fs: str) -> dict[str, bytes]:
        """Committed content per path: what a reader of the landing zone sees."""
        return {path: entry.committed for path, entry in self.file_systems.get(fs, {}).items()}

    # ------------------------------------------------------------------------------------ protocol
    def dispatch(self, request: Request, fs: str, path: str | None) -> Response:
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return _fail(401, "InvalidAuthenticationInfo")
        path = unquote((path or "").lstrip("/"))
        q = request.query
        if not path:
            if request.method == "PUT" and (q.get("restype") == "container" or q.get("resource") == "filesystem"):
                self.operations.append(f"create-filesystem {fs}")
                if fs in self.file_systems:
                    return _fail(409, "ContainerAlreadyExists")
                self.file_systems[fs] = {}
                return Response(201, None, _etag_headers(1))
            return _fail(400, "UnsupportedOperation")
        files = self.file_systems.get(fs)
        if files is None:
            return _fail(404, "ContainerNotFound" if request.method == "HEAD" else "FilesystemNotFound")
        if request.method == "HEAD":
            return self._properties(files, path)
        if request.method == "PUT" and "x-ms-rename-source" in request.headers:
            return self._rename(files, fs, path, request)
        if request.method == "PUT" and q.get("resource") == "file":
            self.operations.append(f"create {path}")
            files[path] = PathEntry()
            return Response(201, None, _etag_headers(1))
        if request.method == "PATCH" and q.get("action") == "append":
            return self._append(files, path, int(q.get("position", -1)), request.body)
        if request.method == "PATCH" and q.get("action") == "flush":
            return self._flush(files, path, int(q.get("position", -1)), request)
        return _fail(400, "UnsupportedOperation")

    def _properties(self, files, path: str) -> Response:
        entry = files.get(path)
        if entry is None:
            return _fail(404, "BlobNotFound")
        headers = {
            **_etag_headers(entry.etag),
            "Content-Length": str(len(entry.committed)),
            "x-ms-blob-type": "BlockBlob",
            "x-ms-resource-type": "file",
            "Content-Type": "application/octet-stream",
        }
        if entry.content_md5:
            headers["Content-MD5"] = base64.b64encode(entry.content_md5).decode()
        return Response(200, None, headers)

    def _append(self, files, path: str, position: int, body: bytes) -> Response:
        entry = files.get(path)
        if entry is None:
            return _fail(404, "PathNotFound")
        if position != len(entry.data):
            return _fail(400, "InvalidFlushPosition")
        entry.data.extend(body)
        self.operations.append(f"append {path} {len(body)}")
        return Response(202, None, {"x-ms-request-server-encrypted": "true"})

    def _flush(self, files, path: str, position: int, request: Request) -> Response:
        entry = files.get(path)
        if entry is None:
            return _fail(404, "PathNotFound")
        if position != len(entry.data):
            return _fail(400, "InvalidFlushPosition")
        md5 = request.headers.get("x-ms-content-md5")
        entry.committed = bytes(entry.data)
        entry.content_md5 = base64.b64decode(md5) if md5 else None
        if entry.content_md5 and entry.content_md5 != hashlib.md5(entry.committed).digest():
            return _fail(400, "Md5Mismatch")
        entry.etag += 1
        self.operations.append(f"flush {path}")
        return Response(200, None, {**_etag_headers(entry.etag), "x-ms-request-server-encrypted": "true"})

    def _rename(self, files, fs: str, path: str, request: Request) -> Response:
        source = unquote(request.headers["x-ms-rename-source"].split("?")[0]).lstrip("/")
        source_fs, _, source_path = source.partition("/")
        if source_fs != fs or source_path not in files:
            return _fail(404, "SourcePathNotFound")
        files[path] = files.pop(source_path)
        self.operations.append(f"rename {source_path} -> {path}")
        return Response(201, None, _etag_headers(files[path].etag))


def _etag_headers(version: int) -> dict:
    return {"ETag": f'"0x8D{version:013X}"', "Last-Modified": formatdate(usegmt=True)}


def _fail(status: int, code: str) -> Response:
    return Response(status, None, {"x-ms-error-code": code})
