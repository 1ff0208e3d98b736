"""A CSV file whose header is not the declared one is never loaded by position: its rows are quarantined
under ``declared_header``, with the header it has and the one declared."""

import os

import pytest

from medallion.declare.tables import Append, FileSource, Layer, Table
from medallion.engine import batch, csv_headers
from medallion.errors import MedallionError
from medallion.platform.runtime import TableLocation
from medallion.sources.files import read_files_once

HEADER = csv_headers.HEADER_COLUMN
SOURCE = FileSource("people", "csv", "id BIGINT, age BIGINT, name STRING", stream=False)


def land(folder: str, name: str, content: bytes) -> str:
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, name)
    with open(path, "wb") as out:
        out.write(content)
    return path


def test_the_header_is_the_first_non_blank_line_split_as_spark_splits_it(tmp_path):
    path = land(str(tmp_path), "a.csv", b'\xef\xbb\xbf\r\n \t\r\n"Customer ID";"Zip; Code";Count\r\n1;2;3\r\n')
    source = FileSource("in", "csv", "a STRING", options={"sep": ";"})
    assert csv_headers.file_header(path, source) == ("Customer ID", "Zip; Code", "Count")
    assert csv_headers.file_header(land(str(tmp_path), "empty.csv", b""), source) is None

    tabs = land(str(tmp_path), "t.tsv", b"# exported 2024-03-01\nid\tname\n1\tAnn\n")
    assert csv_headers.file_header(
        tabs, FileSource("in", "csv", "a STRING", options={"sep": "\\t", "comment": "#"})
    ) == (
        "id",
        "name",
    )
    plain = FileSource("in", "csv", "a STRING")
    backslash = land(str(tmp_path), "b.csv", b"path\\to,name\n")  # Spark's escape applies inside quotes only
    assert csv_headers.file_header(backslash, plain) == ("path\\to", "name")
    escaped = land(str(tmp_path), "e.csv", b'"quoted \\" name",x\n')
    assert csv_headers.file_header(escaped, plain) == ('quoted " name', "x")
    pipes = land(str(tmp_path), "p.csv", b"id||name\n1||Ann\n")
    assert csv_headers.file_header(pipes, FileSource("in", "csv", "a STRING", options={"sep": "||"})) == ("id", "name")


def test_a_file_uri_as_spark_writes_it_is_the_local_path(spark):
    uris = ["file:///data/a%20b+c.csv", "file:/data/x.csv", "dbfs:/Volumes/main/landing/y%25.csv"]
    frame = spark.createDataFrame([(uri,) for uri in uris], "source_file STRING")
    paths = [r[0] for r in frame.select(csv_headers.local_path(frame.source_file)).collect()]
    assert paths == ["/data/a b+c.csv", "/data/x.csv", "/Volumes/main/landing/y%.csv"]


def test_a_folder_this_process_cannot_walk_adds_no_rule_and_a_header_must_name_every_column(spark, tmp_path):
    frame = spark.createDataFrame([(1, "file:///x.csv")], "id BIGINT, source_file STRING")
    for folder in ("abfss://landing@account.dfs.core.windows.net/demo", str(tmp_path / "not here")):
        assert csv_headers.mark_unfit_rows(frame, SOURCE, folder, ("id",)).columns == ["id", "source_file"]

    with pytest.raises(MedallionError, match="header names 2 columns, its schema declares 3"):
        csv_headers.declared_header(FileSource("people", "csv", SOURCE.schema, header=("Id", "Age")))
    with pytest.raises(ValueError, match="header applies to CSV files only"):
        FileSource("people", "json", SOURCE.schema, header=("Id", "Age", "Name"))


def test_a_build_without_source_file_passes_until_a_file_with_another_header_lands(spark, tmp_path):
    folder = str(tmp_path / "people")
    land(folder, "good.csv", b"id,age,name\n1,30,Ann\n")
    frame = spark.createDataFrame([(1, 30, "Ann")], "id BIGINT, age BIGINT, name STRING")
    declared = ("id", "age", "name")
    assert [r[HEADER] for r in csv_headers.mark_unfit_rows(frame, SOURCE, folder, declared).collect()] == [None]

    land(folder, "swapped.csv", b"age,id,name\n31,2,Bob\n")
    with pytest.raises(MedallionError, match=r"swapped.csv: the file's first line.*drops 'source_file'"):
        csv_headers.mark_unfit_rows(frame, SOURCE, folder, declared)


def test_a_header_matches_in_order_with_case_and_spaces_around_names_aside():
    declared = ("id", "age", "name")
    assert csv_headers.same_header(("ID", " age ", "Name"), declared)
    assert not csv_headers.same_header(("age", "id", "name"), declared)
    assert not csv_headers.same_header(("id", "age"), declared)
    assert not csv_headers.same_header(("id", "age", "name", "country"), declared)
    assert csv_headers.same_header(None, declared)  # an empty file has no header to differ


def test_the_files_whose_header_differs_are_named_once_per_content(tmp_path):
    folder = str(tmp_path / "people")
    land(folder, "good.csv", b"id,age,name\n1,30,Ann\n")
    swapped = land(folder, "swapped.csv", b"age,id,name\n30,1,Ann\n")
    land(folder, "notes.txt", b"anything\n")  # not matched by the source's glob: not read
    land(folder, "_hidden.csv", b"x\n")  # hidden: Spark does not read it
    source = FileSource("people", "csv", "id BIGINT, age BIGINT, name STRING", name_glob="*.csv")
    declared = ("id", "age", "name")
    assert csv_headers.unfit_files(folder, source, declared) == {
        swapped: "the file's first line, read as its header, is 'age,id,name', not the declared 'id,age,name' "
        "(columns are read by position)"
    }

    land(folder, "swapped.csv", b"id,age,name\n1,30,Ann\n")  # put right under the same name
    os.utime(swapped, ns=(1, 1))
    assert csv_headers.unfit_files(folder, source, declared) == {}


def test_a_header_is_read_once_while_its_file_stays_and_a_walk_keeps_only_the_files_it_found(tmp_path, monkeypatch):
    monkeypatch.setattr(csv_headers, "_headers", {})
    opened = []
    read = csv_headers.file_header
    monkeypatch.setattr(csv_headers, "file_header", lambda path, source: opened.append(path) or read(path, source))
    folder = str(tmp_path / "people")
    first = land(folder, "1.csv", b"id,age,name\n")
    second = land(folder, "2.csv", b"id,age,name\n")
    source = FileSource("people", "csv", "id BIGINT, age BIGINT, name STRING")
    declared = ("id", "age", "name")
    assert csv_headers.unfit_files(folder, source, declared) == {}
    assert csv_headers.unfit_files(folder, source, declared) == {}
    assert sorted(opened) == [first, second]  # the second walk opened nothing

    os.remove(first)
    land(folder, "2.csv", b"age, id,name\n")  # rewritten: another size
    third = land(folder, "3.csv", b"id,age,name\n")
    assert list(csv_headers.unfit_files(folder, source, declared)) == [second]
    assert sorted(opened) == [first, second, second, third]
    kept = [key for headers in csv_headers._headers.values() for key in headers]
    assert sorted((os.path.basename(path), size) for path, size, _ in kept) == [("2.csv", 13), ("3.csv", 12)]


def test_a_batch_of_a_file_with_another_header_is_quarantined_whole_never_loaded_by_position(make_runtime):
    runtime = make_runtime()
    folder = runtime.settings.landing_path("demo", SOURCE.folder)
    land(folder, "good.csv", b"id,age,name\n1,30,Ann\n")
    land(folder, "a swapped+file.csv", b"age,id,name\n31,2,Bob\n32,3,Cy\n")  # two BIGINTs swapped
    land(folder, "other case.csv", b"ID,Age,NAME\n4,33,Dee\n")
    root = runtime.settings.root
    job = batch.job_for(
        _table(),
        "demo",
        "once",
        "run-1",
        TableLocation("demo", Layer.BRONZE, "people_bz", f"{root}/people_bz", "people_bz", f"{root}/_cp"),
        f"{root}/quarantine",
        f"{root}/batch_log",
        None,
        source_folder=folder,
    )
    assert job.declared_header == ("id", "age", "name")

    counts = batch.process(job, read_files_once(runtime.spark, runtime.settings, SOURCE, "demo"), 1)

    assert (counts.rows_in, counts.rows_quarantined, counts.rows_inserted) == (4, 2, 2)
    assert counts.broken_rules["declared_header"] == 2
    stored = runtime.spark.read.format("delta").load(job.location.path)
    assert sorted((r.id, r.age, r.name) for r in stored.collect()) == [(1, 30, "Ann"), (4, 33, "Dee")]
    rejected = runtime.spark.read.format("delta").load(job.quarantine_path).collect()
    assert sorted(r.rules for r in rejected) == [["declared_header"], ["declared_header"]]
    assert all(r.source.endswith("a%20swapped+file.csv") or r.source.endswith("a swapped+file.csv") for r in rejected)
    assert all("is 'age,id,name', not the declared 'id,age,name'" in r.record for r in rejected)


def _table():
    return Table(
        name="people_bz",
        layer=Layer.BRONZE,
        write=Append(),
        inputs={"raw": SOURCE},
        build=lambda raw: raw,
    )
