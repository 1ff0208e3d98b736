"""One secrets interface, four stores.

- ``env``: environment variables ``MEDALLION_SECRET_<NAME>`` (local and CI);
- ``file``: a git-ignored YAML file of ``name: value`` (local);
- ``databricks``: ``dbutils.secrets`` on a Key Vault-backed secret scope (Databricks jobs);
- ``keyvault``: Azure Key Vault directly, through azure-identity + azure-keyvault-secrets (jobs that
  run outside Databricks).

Values are wrapped in :class:`Secret`, whose ``str``/``repr`` never show the value, so a secret cannot
reach a log line, an exception or an f-string by accident; ``reveal()`` is the one explicit way out.
"""

from __future__ import annotations

import os
import secrets as stdlib_secrets
from pathlib import Path
from typing import Protocol

import yaml

from medallion.errors import ConfigError, MedallionError
from medallion.platform.config import PROJECT_DIR, Settings

ENV_PREFIX = "MEDALLION_SECRET_"


class Secret:
    __slots__ = ("_value", "name")

    def __init__(self, name: str, value: str):
        self.name = name
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"Secret({self.name!r}, '***')"

    __str__ = __repr__

    def __reduce__(self):  # never pickled into a plan or a log in clear
        raise TypeError("a Secret cannot be pickled; pass reveal() to the one place that needs it")


class SecretStore(Protocol):
    def get(self, name: str) -> Secret: ...


class MissingSecretError(MedallionError):
    pass


class EnvSecretStore:
    def get(self, name: str) -> Secret:
        variable = ENV_PREFIX + name.upper().replace("-", "_")
        value = os.environ.get(variable)
        if value is None:
            raise MissingSecretError(
                f"Secret '{name}' is not set: export {variable}=… (or use secrets.provider: file)."
            )
        return Secret(name, value)


class FileSecretStore:
    """Secrets from a git-ignored YAML file; ``ensure`` creates a random local value on first use."""

    def __init__(self, path: Path):
        self.path = path

    def _read(self) -> dict:
        if not self.path.exists():
            return {}
        return yaml.safe_load(self.path.read_text()) or {}

    def get(self, name: str) -> Secret:
        values = self._read()
        if name not in values:
            raise MissingSecretError(f"Secret '{name}' is not in {self.path.name}: run `medallion setup` or add it.")
        return Secret(name, str(values[name]))

    def ensure(self, name: str) -> Secret:
        values = self._read()
        if name not in values:
            values[name] = stdlib_secrets.token_hex(32)
            self._write(yaml.safe_dump(values))
        return Secret(name, str(values[name]))

    def _write(self, text: str) -> None:
        """Readable by its owner alone from its first byte: created with that mode, not changed after writing."""
        descriptor = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(descriptor, 0o600)  # a file that existed keeps its mode through O_CREAT
        with os.fdopen(descriptor, "w") as file:
            file.write(text)


class DatabricksSecretStore:
    def __init__(self, dbutils, scope: str):
        self.dbutils = dbutils
        self.scope = scope

    def get(self, name: str) -> Secret:
        try:
            return Secret(name, self.dbutils.secrets.get(scope=self.scope, key=name))
        except Exception as err:  # dbutils raises a generic error; keep its type out of the message
            raise MissingSecretError(
                f"Secret '{name}' not readable from scope '{self.scope}' ({type(err).__name__}): "
                "check the Key Vault-backed scope and the job principal's READ permission."
            ) from None


class KeyVaultSecretStore:
    """Azure Key Vault over its REST API with the official SDK; the vault URL comes from settings."""

    def __init__(self, vault_url: str, credential=None, **client_options):
        self.vault_url = vault_url
        self._credential = credential
        self._client_options = client_options  # passed to SecretClient (transport, retries, challenge checks)

    def get(self, name: str) -> Secret:
        from azure.identity import DefaultAzureCredential
        from azure.keyvault.secrets import SecretClient

        client = SecretClient(
            vault_url=self.vault_url, credential=self._credential or DefaultAzureCredential(), **self._client_options
        )
        try:
            value = client.get_secret(name).value
        except Exception as err:
            raise MissingSecretError(
                f"Secret '{name}' not readable from {self.vault_url} ({type(err).__name__}): "
                "check the vault name and the identity's 'get' permission on secrets."
            ) from None
        if value is None:
            raise MissingSecretError(f"Secret '{name}' in {self.vault_url} has no value: set one.")
        return Secret(name, value)


def secret_store(settings: Settings, dbutils=None) -> SecretStore:
    provider = settings.secrets.provider
    if provider == "env":
        return EnvSecretStore()
    if provider == "file":
        return FileSecretStore(PROJECT_DIR / settings.secrets.file)
    if provider == "databricks":
        if dbutils is None:
            raise ConfigError("secrets.provider is databricks but no dbutils is available: run on Databricks.")
        return DatabricksSecretStore(dbutils, settings.secrets.scope)
    if provider == "keyvault":
        return KeyVaultSecretStore(f"https://{settings.secrets.scope}.vault.azure.net")
    raise ConfigError(f"unknown secrets.provider {provider!r}")
