"""What must already exist in the workspace for the jobs to work, checked by every plan (``--plan``
included): the secret scope the jobs read (secrets.provider databricks) exists, is backed by Azure Key
Vault, and the job principal may read it. The deploy creates none of it: a Key Vault-backed scope is
created once by a workspace admin with rights on the vault, so its absence is reported with the command
that fixes it, and nothing is applied."""

from __future__ import annotations

from deployment.settings import DeploymentSettings
from deployment.workspace import Workspace

READABLE = ("READ", "WRITE", "MANAGE")


def secret_scope_problems(ws: Workspace, settings: DeploymentSettings) -> list[str]:
    name = settings.secret_scope
    if not name:
        return []
    where = f"conf/{settings.env}.yml secrets.scope"
    scope = ws.secret_scope(name)
    if scope is None:
        return [
            f"The secret scope {name!r} ({where}) does not exist. A workspace admin creates it once, backed by "
            f"the environment's Key Vault: databricks secrets create-scope {name} --scope-backend-type "
            "AZURE_KEYVAULT --resource-id <key vault resource id> --dns-name https://<vault>.vault.azure.net/"
        ]
    backend = scope.backend_type.value if scope.backend_type else "unknown"
    if backend != "AZURE_KEYVAULT":
        return [
            f"The secret scope {name!r} ({where}) is {backend}-backed, not Key Vault-backed: secrets would live "
            "outside the vault's rotation and audit. Recreate it with --scope-backend-type AZURE_KEYVAULT."
        ]
    principal = settings.job_principal
    if principal and ws.secret_acl(name, principal) not in READABLE:
        return [
            f"The job principal {principal} cannot read the secret scope {name!r} ({where}): "
            f"databricks secrets put-acl {name} {principal} READ"
        ]
    return []
