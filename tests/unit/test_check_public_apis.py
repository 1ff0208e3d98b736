"""The lint check that keeps private Spark/JVM internals out of the library (scripts/check_public_apis.py)."""

from __future__ import annotations

import importlib.util

from medallion.platform.config import PROJECT_DIR

SCRIPT = PROJECT_DIR / "scripts" / "check_public_apis.py"


def _check():
    spec = importlib.util.spec_from_file_location("check_public_apis", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_each_private_name_is_reported_with_file_and_line(tmp_path, capsys):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "a.py").write_text(
        "import os\n"
        "pid = spark._jvm.java.lang.ProcessHandle.current().pid()\n"
        "spark.sparkContext.setLogLevel('ERROR')  # and _jsparkSession\n"
        "from py4j.protocol import Py4JJavaError\n"
        "driver_jvm_pid = 1  # a name that only contains the letters is fine\n"
    )
    (tmp_path / "pkg" / "notes.md").write_text("reaches df._jdf\n")
    assert _check().main([str(tmp_path / "pkg")]) == 1
    assert capsys.readouterr().out.splitlines() == [
        f"{tmp_path}/pkg/a.py:2: _jvm",
        f"{tmp_path}/pkg/a.py:3: sparkContext",
        f"{tmp_path}/pkg/a.py:3: _jsparkSession",
        f"{tmp_path}/pkg/a.py:4: py4j",
        f"{tmp_path}/pkg/notes.md:1: _jdf",
    ]


def test_public_apis_pass(tmp_path, capsys):
    (tmp_path / "ok.py").write_text("spark.sql('DESCRIBE HISTORY t')\nDeltaTable.forPath(spark, p)\n")
    assert _check().main([str(tmp_path)]) == 0
    assert capsys.readouterr().out == ""


def test_the_library_uses_no_private_internals(capsys):
    assert _check().main([str(PROJECT_DIR / "src")]) == 0, capsys.readouterr().out
