"""A table's declaration digest (part of its skip fingerprint) follows the code it runs: its build function and
the helpers beside it in its package, so changed code is never skipped; nothing else moves it."""

from __future__ import annotations

import importlib
import sys
import textwrap

import pytest

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
    """A package ``digest_demo_<n>`` with a view and the helper it calls, and a module outside the package."""
    name = f"digest_demo_{len(sys.modules)}"
    folder = tmp_path / name
    folder.mkdir()
    (folder / "__init__.py").write_text("")
    (folder / "views.py").write_text(textwrap.dedent(VIEWS.format(package=name)))
    (folder / "helpers.py").write_text(textwrap.dedent(HELPERS))
    (tmp_path / "elsewhere.py").write_text("ANSWER = 42\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield folder, importlib.import_module(f"{name}.views").totals
    for module in [m for m in sys.modules if m.startswith(name)]:
        del sys.modules[module]


def test_the_digest_is_the_same_while_the_code_is(package):
    folder, totals = package
    first = changes.declaration_digest(totals)
    (folder / "helpers.py").write_text((folder / "helpers.py").read_text())  # rewritten, the same text
    (folder.parent / "elsewhere.py").write_text("ANSWER = 43\n")  # not beside the build
    assert changes.declaration_digest(totals) == first


def test_a_changed_helper_beside_the_build_changes_the_digest(package):
    folder, totals = package
    first = changes.declaration_digest(totals)
    (folder / "helpers.py").write_text(textwrap.dedent(HELPERS).replace('sum("amount")', 'avg("amount")'))
    assert changes.declaration_digest(totals) != first


def test_a_new_module_in_the_package_changes_the_digest(package):
    folder, totals = package
    first = changes.declaration_digest(totals)
    (folder / "constants.py").write_text("TOPICS = ('orders',)\n")
    assert changes.declaration_digest(totals) != first


def test_code_without_source_is_digested_by_its_compiled_form_the_same_in_every_process():
    def digest_of(text: str) -> str:
        namespace: dict = {}
        exec(compile(text, "<no source>", "exec"), namespace)
        return changes.code_digest(namespace["build"])

    source = "def build(x):\n    return [y * 2 for y in x if y > 'a']\n"
    assert "0x" not in digest_of(source)  # the nested comprehension's code, not its memory address
    assert digest_of(source) == digest_of(source)
    assert digest_of(source) != digest_of(source.replace("'a'", "'b'"))
