"""KeyVaultSecretStore against a local HTTPS server speaking the Key Vault protocol, challenge included."""

import pytest

from medallion.platform.config import load_settings
from medallion.platform.secrets import KeyVaultSecretStore, MissingSecretError, secret_store
from tests.support.credentials import FixedTokenCredential
from tests.support.keyvault import TOKEN, FakeKeyVault
from tests.support.tls import self_signed

CANARY = "canary-9f8e7d6c5b4a"


@pytest.fixture
def vault(tmp_path, monkeypatch):
    certificate, context = self_signed(tmp_path)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(certificate))  # the SDK's transport trusts our certificate
    with FakeKeyVault(context, {"pii-token-key": CANARY}) as server:
        yield server


def store(vault, token=TOKEN):
    # The SDK checks that the challenge's resource (vault.azure.net) is a parent domain of the vault's
    # host; a server on 127.0.0.1 cannot pass that check, so only it is switched off here.
    credential = FixedTokenCredential(token)
    return KeyVaultSecretStore(vault.url, credential=credential, verify_challenge_resource=False), credential


def test_a_secret_is_read_after_the_bearer_challenge(vault):
    secrets, credential = store(vault)
    secret = secrets.get("pii-token-key")
    assert secret.reveal() == CANARY
    assert CANARY not in repr(secret) and CANARY not in str(secret)
    assert vault.challenges == 1
    assert credential.scopes == [("https://vault.azure.net/.default",)]
    assert all("api-version=" in path for _, path in vault.server.log)


def test_a_missing_secret_says_where_and_what_to_check(vault):
    secrets, _ = store(vault)
    with pytest.raises(
        MissingSecretError,
        match=r"Secret 'jdbc-password' not readable from https://127\.0\.0\.1:\d+ "
        r"\(ResourceNotFoundError\): check the vault name and the identity's 'get' permission",
    ):
        secrets.get("jdbc-password")


def test_a_rejected_token_fails_without_revealing_any_secret(vault):
    secrets, _ = store(vault, token="expired-token")
    with pytest.raises(MissingSecretError) as failure:
        secrets.get("pii-token-key")
    assert CANARY not in str(failure.value) and "expired-token" not in str(failure.value)
    assert "ClientAuthenticationError" in str(failure.value)


def test_the_keyvault_provider_addresses_the_vault_named_by_the_scope(tmp_path):
    settings = load_settings("qa", overrides={"secrets": {"provider": "keyvault", "scope": "kv-medallion-qa"}})
    assert secret_store(settings).vault_url == "https://kv-medallion-qa.vault.azure.net"
