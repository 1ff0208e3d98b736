"""A table's declaration digest (part of its skip fingerprint) follows the code it runs: its build function and
the helpers beside it in its package, so changed code is never skipped; nothing else moves it."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import textwrap

import pytest

from medallion.declare import code
from medallion.engine import changes

VIEWS = """
    from medallion.declare.tables import Layer, Overwrite, snapshot, table

    from {package}.helpers import with_total


    @table(Layer.GOLD, Overwrite(), {{"orders": snapshot("orders")}})
    def totals(orders):
        return with_total(orders)
"""

HELPERS = """
    def with_total(orders):
        return orders.groupBy("customer").sum("amount")
"""


@pytest.fixture
def package(tmp_path, monkeypatch):
    """A package ``digest_demo_<n>`` with a view and the helper it calls, and a module outside the package;
    gives its folder and a function that imports the view afresh, as a new process would."""
    name = f"digest_demo_{len(sys.modules)}"
    folder = tmp_path / name
    folder.mkdir()
    (folder / "__init__.py").write_text("")
    (folder / "views.py").write_text(textwrap.dedent(VIEWS.format(package=name)))
    (folder / "helpers.py").write_text(textwrap.dedent(HELPERS))
    (tmp_path / "elsewhere.py").write_text("ANSWER = 42\n")
    monkeypatch.syspath_prepend(str(tmp_path))

    def imported():
        for module in [m for m in sys.modules if m.startswith(name)]:
            del sys.modules[module]
        return importlib.import_module(f"{name}.views").totals

    yield folder, imported
    for module in [m for m in sys.modules if m.startswith(name)]:
        del sys.modules[module]


def test_the_digest_is_the_same_while_the_code_is(package):
    folder, imported = package
    first = changes.declaration_digest(imported())
    (folder / "helpers.py").write_text((folder / "helpers.py").read_text())  # rewritten, the same text
    (folder.parent / "elsewhere.py").write_text("ANSWER = 43\n")  # not beside the build
    assert changes.declaration_digest(imported()) == first


def test_a_changed_helper_beside_the_build_changes_the_digest(package):
    folder, imported = package
    first = changes.declaration_digest(imported())
    (folder / "helpers.py").write_text(textwrap.dedent(HELPERS).replace('sum("amount")', 'avg("amount")'))
    assert changes.declaration_digest(imported()) != first


def test_a_new_module_in_the_package_changes_the_digest(package):
    folder, imported = package
    first = changes.declaration_digest(imported())
    (folder / "constants.py").write_text("TOPICS = ('orders',)\n")
    assert changes.declaration_digest(imported()) != first


def test_a_changed_data_file_of_the_package_changes_the_digest(package):
    folder, imported = package
    (folder / "data").mkdir()
    (folder / "data" / "stop_words.txt").write_text("a\nthe\n")
    first = changes.declaration_digest(imported())
    (folder / "data" / "stop_words.txt").write_text("a\nan\nthe\n")
    assert changes.declaration_digest(imported()) != first


def test_the_digest_is_of_the_code_imported_not_of_files_changed_since(package):
    """A process runs the code it imported: a helper edited meanwhile (a notebook session, an edit during a
    run) must not be recorded as run, or the edited code would be skipped by every later run."""
    folder, imported = package
    totals = imported()
    first = changes.declaration_digest(totals)
    (folder / "helpers.py").write_text(textwrap.dedent(HELPERS).replace('sum("amount")', 'avg("amount")'))
    assert changes.declaration_digest(totals) == first


def test_the_engine_digest_covers_the_code_that_decides_rows_and_nothing_else(tmp_path):
    engine = tmp_path / "medallion"
    (engine / "engine").mkdir(parents=True)
    (engine / "cli").mkdir()
    (engine / "engine" / "batch.py").write_text("A = 1\n")
    (engine / "io.py").write_text("B = 1\n")
    (engine / "cli" / "main.py").write_text("C = 1\n")
    digest = lambda: code.package_digest(str(engine), ("engine", "io.py"))  # noqa: E731
    first = digest()
    (engine / "cli" / "main.py").write_text("C = 2\n")  # a command's help text changes no row
    assert digest() == first
    (engine / "io.py").write_text("B = 2\n")
    second = digest()
    assert second != first
    (engine / "engine" / "batch.py").write_text("A = 2\n")
    assert digest() != second


def test_code_without_source_is_digested_by_its_compiled_form_the_same_in_every_process():
    def digest_of(text: str) -> str:
        namespace: dict = {}
        exec(compile(text, "<no source>", "exec"), namespace)
        return code.code_digest(namespace["build"])

    source = "def build(x):\n    return [y * 2 for y in x if y > 'a']\n"
    with_a_set = "def build(x):\n    return [y for y in x if y in {'north', 'south', 'east', 'west'}]\n"
    in_other_processes = {
        subprocess.run(
            [
                sys.executable,
                "-c",
                f"import sys; sys.path[:0] = {sys.path!r}; from {__name__} import code_of; "
                f"print(code_of({with_a_set!r}))",
            ],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2", "3")
    }
    assert len(in_other_processes) == 1  # a set's members in one order whatever the hash seed
    assert "0x" not in digest_of(source)  # the nested comprehension's code, not its memory address
    assert digest_of(source) == digest_of(source)
    assert digest_of(source) != digest_of(source.replace("'a'", "'b'"))


def code_of(text: str) -> str:
    """The code digest of the function ``build`` compiled from ``text``, where no source is kept."""
    namespace: dict = {}
    exec(compile(text, "<no source>", "exec"), namespace)
    return code.code_digest(namespace["build"])
