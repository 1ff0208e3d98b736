"""What must already exist in the workspace for the jobs to work, checked by every plan (``--plan``
included): the secret scope the jobs read (secrets.provider databricks) exists, is backed by Azure Key
Vault, and the job principal may read it. The deploy creates none of it: a Key Vault-backed scope is
created once by a workspace admin with rights on the vault, so its absence is reported with the command
that fixes it, and nothing is applied.

Reading a scope's ACLs needs MANAGE on the scope: an identity without it (the read-only identity that plans
prod) cannot verify the job principal's access, so the check says so and does not block; the deployer,
which applies, has it and checks."""

from __future__ import annotations

import logging
from collections.abc import Callable

from databricks.sdk.errors import PermissionDenied

from deployment.settings import DeploymentSettings
from deployment.workspace import Workspace

READABLE = ("READ", "WRITE", "MANAGE")
# secrets.get_acl answers for the principal's own grant only: a READ it has through a group is not seen
DIRECT_ONLY = "only grants made to the principal itself are seen, not those it has through a group"

log = logging.getLogger(__name__)


def secret_scope_problems(
    ws: Workspace, settings: DeploymentSettings, progress: Callable[[str], None] = log.info
) -> list[str]:
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
    if not principal:
        return []
    try:
        level = ws.secret_acl(name, principal)
    except PermissionDenied:
        progress(
            f"secret scope {name!r}: could not verify that the job principal {principal} may read it: this "
            f"identity lacks MANAGE on the scope, which reading its ACLs needs ({DIRECT_ONLY}). Not blocking; "
            "a deploy by an identity that manages the scope checks it."
        )
        return []
    if level not in READABLE:
        return [
            f"The job principal {principal} cannot read the secret scope {name!r} ({where}; {DIRECT_ONLY}): "
            f"databricks secrets put-acl {name} {principal} READ"
        ]
    return []
