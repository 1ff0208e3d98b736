"""The Azure identity for calls made from outside a cluster (``medallion upload``): quick to fail, one
clear message.

``DefaultAzureCredential`` tries every source it knows, some with network probes and retries: with no
identity at all, an upload took 86 s to fail with "failed (None None)". Here the chain holds only the
sources that can work where the command runs (a laptop, a pipeline agent), each with a short timeout:
- the environment: a service principal (``AZURE_CLIENT_ID``, ``AZURE_TENANT_ID``, ``AZURE_CLIENT_SECRET``);
- workload identity federation (``AZURE_FEDERATED_TOKEN_FILE`` with the client and tenant ids);
- the Azure CLI (``az login``, or an AzureCLI@2 task with a service connection);
- a managed identity, only where Azure says there is one (``IDENTITY_ENDPOINT`` / ``MSI_ENDPOINT``).
A token is asked for once up front, so a missing identity is reported before any work starts.
"""

from __future__ import annotations

import os

from medallion.errors import MedallionError

TIMEOUT_S = 10
STORAGE_SCOPE = "https://storage.azure.com/.default"
MISSING_IDENTITY = (
    "No Azure identity for {what}: set AZURE_CLIENT_ID and AZURE_TENANT_ID with AZURE_CLIENT_SECRET (a service "
    "principal) or with AZURE_FEDERATED_TOKEN_FILE (workload identity federation), or run `az login`. ({detail})"
)
TRANSPORT = {"connection_timeout": TIMEOUT_S, "read_timeout": TIMEOUT_S, "retry_total": 1}


def credential():
    """The chain described above (nothing is requested yet)."""
    from azure.identity import (
        AzureCliCredential,
        ChainedTokenCredential,
        EnvironmentCredential,
        ManagedIdentityCredential,
        WorkloadIdentityCredential,
    )

    chain = [EnvironmentCredential(**TRANSPORT)]
    if os.environ.get("AZURE_FEDERATED_TOKEN_FILE"):
        chain.append(WorkloadIdentityCredential(**TRANSPORT))
    chain.append(AzureCliCredential(process_timeout=TIMEOUT_S))
    if os.environ.get("IDENTITY_ENDPOINT") or os.environ.get("MSI_ENDPOINT"):
        chain.append(ManagedIdentityCredential(**TRANSPORT))
    return ChainedTokenCredential(*chain)


def checked_credential(what: str, scope: str = STORAGE_SCOPE):
    """A credential that has just obtained a token for ``scope``; else one error naming what to set."""
    from azure.core.exceptions import ClientAuthenticationError

    chosen = credential()
    try:
        chosen.get_token(scope)
    except ClientAuthenticationError as err:  # CredentialUnavailableError included: no source configured
        detail = " ".join(str(err.message if hasattr(err, "message") else err).split())[:300]
        raise MedallionError(MISSING_IDENTITY.format(what=what, detail=detail)) from None
    return chosen
