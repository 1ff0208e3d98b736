"""The files a file stream's checkpoint says it has read, from its source logs on local disk."""

import json
from pathlib import Path

from medallion.engine.unread_files import files_read


def source_log(checkpoint: Path, batch: int, *paths: str) -> Path:
    log = checkpoint / "sources" / "0" / str(batch)
    log.parent.mkdir(parents=True, exist_ok=True)
    entries = [json.dumps({"path": f"file://{p}", "timestamp": 1000 + batch, "batchId": batch}) for p in paths]
    log.write_text("\n".join(["v1", *entries]) + "\n", encoding="utf-8")
    return log


def test_every_logged_file_is_read_once_with_its_time(tmp_path):
    source_log(tmp_path, 0, "/land/a.json", "/land/b%20c.json")
    source_log(tmp_path, 1, "/land/d.json")
    assert files_read(str(tmp_path)) == {"/land/a.json": 1000, "/land/b c.json": 1000, "/land/d.json": 1001}


def test_a_log_removed_while_listed_is_passed_over(tmp_path, monkeypatch):
    source_log(tmp_path, 0, "/land/a.json")
    compacted = source_log(tmp_path, 1, "/land/b.json")
    real_read_text = Path.read_text

    def read_text(path, *args, **kwargs):
        if path == compacted:  # Spark deleted it after compacting, between the listing and the read
            raise FileNotFoundError(str(path))
        return real_read_text(path, *args, **kwargs)

    monkeypatch.setattr(Path, "read_text", read_text)
    assert files_read(str(tmp_path)) == {"/land/a.json": 1000}
