"""Personal-data policy: keyed tokens that are stable, joinable, and useless without the key."""

import hashlib
import pickle

import pytest

from medallion.engine.personal_data import apply_policy, token
from medallion.errors import MedallionError
from medallion.platform.secrets import Secret

KEY = Secret("pii-token-key", "unit-test-key")


def test_tokens_are_keyed_hmac_sha256_stable_and_not_a_plain_hash():
    mac = "4c:c5:9f:cb:13:bd"
    assert token(mac, b"unit-test-key") == token(mac, b"unit-test-key")
    assert len(token(mac, b"unit-test-key")) == 64
    assert token(mac, b"unit-test-key") != hashlib.sha256(mac.encode()).hexdigest()
    assert token(mac, b"unit-test-key") != token(mac, b"another-key")
    assert token(None, b"unit-test-key") is None


def test_without_the_key_a_dictionary_of_plain_hashes_finds_nothing():
    candidates = [f"4c:c5:9f:cb:13:{i:02x}" for i in range(256)]
    target = token("4c:c5:9f:cb:13:bd", b"unit-test-key")
    assert target not in {hashlib.sha256(c.encode()).hexdigest() for c in candidates}
    assert target not in {hashlib.sha256(("" + c).encode()).hexdigest() for c in candidates}
    assert [c for c in candidates if token(c, b"unit-test-key") == target] == ["4c:c5:9f:cb:13:bd"]  # with the key


def test_policy_tokenises_masks_drops_and_keeps(spark):
    people = spark.createDataFrame(
        [("Ann", "555-0199", "10.0.0.1", "CA"), (None, None, None, "NY")],
        "name STRING, phone STRING, ip STRING, state STRING",
    )
    protected = apply_policy(people, {"name": "tokenize", "phone": "mask", "ip": "drop", "state": "keep"}, KEY)
    assert protected.columns == ["name", "phone", "state"]
    assert [tuple(r) for r in protected.collect()] == [
        (token("Ann", b"unit-test-key"), "****0199", "CA"),
        (None, None, "NY"),
    ]


def test_tokens_of_equal_values_join(spark):
    left = apply_policy(spark.createDataFrame([("aa:bb", 1)], "mac STRING, n INT"), {"mac": "tokenize"}, KEY)
    right = apply_policy(
        spark.createDataFrame([("aa:bb", "gym 5")], "mac STRING, gym STRING"), {"mac": "tokenize"}, KEY
    )
    assert left.join(right, "mac").select("n", "gym").collect()[0] == (1, "gym 5")


def test_an_unknown_rule_or_a_missing_key_is_an_error(spark):
    frame = spark.createDataFrame([("a",)], "name STRING")
    with pytest.raises(ValueError, match="unknown personal-data policy"):
        apply_policy(frame, {"name": "hash"}, KEY)
    with pytest.raises(ValueError, match="needs the pii-token-key secret"):
        apply_policy(frame, {"name": "tokenize"}, None)


def test_a_declared_column_the_build_does_not_give_is_an_error_not_a_pass(spark):
    renamed = spark.createDataFrame([("ann@example.com",)], "email_address STRING")
    with pytest.raises(MedallionError, match="personal data declared for email, which the build does not give"):
        apply_policy(renamed, {"email": "tokenize"}, KEY)


def test_a_secret_never_shows_its_value():
    assert "unit-test-key" not in f"{KEY} {KEY!r} {[KEY]} { ({'k': KEY}) }"
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(KEY)


def test_a_local_secret_file_is_kept_readable_by_its_owner_alone(tmp_path):
    import os
    import stat

    from medallion.platform.secrets import FileSecretStore

    previous = os.umask(0o022)  # the usual default: files readable by everyone unless created otherwise
    try:
        store = FileSecretStore(tmp_path / ".secrets.yml")
        created = store.ensure("pii-token-key")
        assert stat.S_IMODE((tmp_path / ".secrets.yml").stat().st_mode) == 0o600
        assert store.ensure("pii-token-key").reveal() == created.reveal()  # created once, then read
        (tmp_path / ".secrets.yml").chmod(0o644)  # loosened by hand: the next secret written tightens it
        store.ensure("another-key")
        assert stat.S_IMODE((tmp_path / ".secrets.yml").stat().st_mode) == 0o600
        assert store.get("pii-token-key").reveal() == created.reveal()
    finally:
        os.umask(previous)
