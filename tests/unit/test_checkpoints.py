"""Checkpoint verification: a damaged file is found by its checksum or format, with a message saying how to recover."""

import struct
import zlib

import pytest

from medallion.engine import checkpoints
from medallion.errors import CheckpointError


def write_with_crc(path, content: bytes):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    sums = b"".join(struct.pack(">I", zlib.crc32(content[i : i + 512])) for i in range(0, len(content), 512))
    path.with_name(f".{path.name}.crc").write_bytes(b"crc\x00" + struct.pack(">i", 512) + sums)


@pytest.fixture
def checkpoint(tmp_path):
    root = tmp_path / "users"
    write_with_crc(root / "metadata", b'{"id":"5f1c"}')
    write_with_crc(root / "offsets" / "0", b'v1\n{"batchWatermarkMs":0}\n{"reservoirVersion":2}')
    write_with_crc(root / "commits" / "0", b'v1\n{"nextBatchWatermarkMs":0}')
    write_with_crc(root / "sources" / "0" / "0", b'v1\n{"path":"file:///landing/a.csv","batchId":0}')
    write_with_crc(root / "state" / "0" / "0" / "1.delta", bytes(range(256)) * 5)
    return root


def test_a_sound_checkpoint_and_a_missing_one_pass(checkpoint, tmp_path):
    checkpoints.verify(str(checkpoint), "users", "fitness")
    checkpoints.verify(str(tmp_path / "never-ran"), "users", "fitness")


def test_files_spark_never_reads_are_not_damage(checkpoint):
    """A kill while Spark writes commits/1 leaves its empty hidden temporary file and an empty checksum
    beside it; Spark ignores both and re-runs batch 1, so the checkpoint is sound."""
    (checkpoint / "commits" / ".1.0b8e5f2c-9d3a-4c1e-8f7a-2b6d4e1a9c3f.tmp").write_bytes(b"")
    (checkpoint / "commits" / "..1.0b8e5f2c-9d3a-4c1e-8f7a-2b6d4e1a9c3f.tmp.crc").write_bytes(b"")
    (checkpoint / "offsets" / ".2.5e1f.tmp").write_bytes(b"v1\n{")
    (checkpoint / "state" / "0" / "0" / "_metadata").mkdir()
    checkpoints.verify(str(checkpoint), "users", "fitness")


@pytest.mark.parametrize(
    "damage, problem",
    [
        (
            lambda cp: (cp / "offsets" / "0").write_bytes(b'v1\n{"batchWatermarkMs":1}\n{"reservoirVersion":2}'),
            "offsets/0 does not match its checksum",
        ),
        (
            lambda cp: (cp / "state" / "0" / "0" / "1.delta").write_bytes(b"\x00" * 1280),
            "state/0/0/1.delta does not match its checksum",
        ),
        (lambda cp: write_with_crc(cp / "commits" / "1", b"garbage"), "commits/1 has no offsets/1"),
        (
            lambda cp: write_with_crc(cp / "offsets" / "1", b'v1\n{"batchWatermark'),
            "offsets/1 holds a line that is not JSON",
        ),
        (lambda cp: write_with_crc(cp / "sources" / "0" / "1", b"\x89PNG"), "sources/0/1 is not text"),
        (
            lambda cp: write_with_crc(cp / "sources" / "0" / "1", b"v0\n{}"),
            "sources/0/1 does not start with the log version",
        ),
        (lambda cp: (cp / "metadata").unlink(), "the metadata file (the query id) is missing"),
        (
            lambda cp: (
                (cp / "commits" / ".1.5e1f.tmp").write_bytes(b""),
                (cp / "commits" / ".0.crc").write_bytes(b""),
            ),
            "commits/0 does not match its checksum",
        ),
    ],
)
def test_damage_is_reported_with_the_folder_and_the_recovery(checkpoint, damage, problem):
    damage(checkpoint)
    with pytest.raises(CheckpointError) as raised:
        checkpoints.verify(str(checkpoint), "users", "fitness")
    message = str(raised.value)
    assert f"The streaming checkpoint of fitness.users at {checkpoint} is damaged: {problem}" in message
    assert "Nothing was written" in message
    assert "`medallion reset fitness --keep-landing`" in message and "restore the folder from a backup" in message
