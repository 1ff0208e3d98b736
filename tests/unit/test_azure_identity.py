"""Without any Azure identity, `medallion upload --env qa` fails within seconds with one message naming
what to set (it used to take 86 s to say "failed (None None)")."""

import os
import time

import pytest

from medallion.cli import main
from medallion.errors import MedallionError
from medallion.platform.azure_identity import checked_credential


@pytest.fixture
def no_identity(monkeypatch, tmp_path):
    for name in list(os.environ):
        if name.startswith(("AZURE_", "ARM_", "IDENTITY_", "MSI_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("PATH", str(tmp_path))  # no `az` either
    monkeypatch.setenv("HOME", str(tmp_path))


def test_no_identity_is_one_message_naming_the_credentials(no_identity):
    started = time.monotonic()
    with pytest.raises(MedallionError) as failed:
        checked_credential("the landing zone abfss://landing@example.dfs.core.windows.net")
    assert time.monotonic() - started < 10
    assert str(failed.value).startswith(
        "No Azure identity for the landing zone abfss://landing@example.dfs.core.windows.net: set AZURE_CLIENT_ID "
        "and AZURE_TENANT_ID with AZURE_CLIENT_SECRET (a service principal) or with AZURE_FEDERATED_TOKEN_FILE "
        "(workload identity federation), or run `az login`."
    )


def test_upload_to_qa_without_identity_exits_1_before_producing_anything(no_identity, capsys):
    started = time.monotonic()
    assert main(["upload", "fitness", "--env", "qa"]) == 1
    assert time.monotonic() - started < 10
    err = capsys.readouterr().err
    assert err.startswith(
        "error: No Azure identity for the landing zone abfss://landing@medallionqa.dfs.core.windows.net:"
    )
    assert "Traceback" not in err
