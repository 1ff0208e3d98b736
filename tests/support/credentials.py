"""A credential that hands out a fixed token and records the scopes asked for (what azure-identity's
credentials do against Entra ID, minus the network)."""

from __future__ import annotations

import time

from azure.core.credentials import AccessToken


class FixedTokenCredential:
    def __init__(self, token: str):
        self.token = token
        self.scopes: list[tuple[str, ...]] = []

    def get_token(self, *scopes: str, **kwargs) -> AccessToken:
        self.scopes.append(scopes)
        return AccessToken(self.token, int(time.time()) + 3600)
