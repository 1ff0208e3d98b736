"""A local Azure Key Vault (secrets only) speaking the REST protocol azure-keyvault-secrets uses:
an unauthenticated first request answered 401 with a ``WWW-Authenticate`` bearer challenge, then the
request again with the token the credential gave for the challenged scope."""

from __future__ import annotations

import ssl

from tests.support.http import LocalServer, Request, Response

TENANT = "00000000-0000-0000-0000-0000000000aa"
TOKEN = "local-keyvault-token"
CHALLENGE = f'Bearer authorization="https://login.microsoftonline.com/{TENANT}", resource="https://vault.azure.net"'


class FakeKeyVault:
    def __init__(self, ssl_context: ssl.SSLContext, secrets: dict[str, str]):
        self.secrets = dict(secrets)
        self.challenges = 0
        self.server = LocalServer(ssl_context)
        self.server.route("GET", r"/secrets/(?P<name>[^/]+)/?(?P<version>[^/]*)", self.get_secret)

    def __enter__(self):
        self.server.__enter__()
        return self

    def __exit__(self, *exc):
        self.server.__exit__(*exc)

    @property
    def url(self) -> str:
        return self.server.url

    def get_secret(self, request: Request, name: str, version: str) -> Response:
        if "api-version" not in request.query:
            return Response(
                400, {"error": {"code": "MissingApiVersionParameter", "message": "api-version is required"}}
            )
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            self.challenges += 1
            return Response(
                401,
                {"error": {"code": "Unauthorized", "message": "AKV10000: Request is missing a Bearer or PoP token."}},
                headers={"WWW-Authenticate": CHALLENGE},
            )
        if name not in self.secrets:
            return Response(
                404,
                {
                    "error": {
                        "code": "SecretNotFound",
                        "message": f"A secret with (name/id) {name} was not found in this key vault.",
                    }
                },
            )
        return Response(
            200,
            {
                "value": self.secrets[name],
                "id": f"{self.url}/secrets/{name}/4387e9f3d6e14c459867679a90fd0f79",
                "attributes": {
                    "enabled": True,
                    "created": 1700000000,
                    "updated": 1700000000,
                    "recoveryLevel": "Recoverable+Purgeable",
                },
            },
        )
