"""The digest of the code a declaration runs, taken when it is declared (its module imported): the code a
process runs is the code it imported, whatever the files on disk say later (an edit during a run or a long
notebook session), so a fingerprint never records code that did not run."""

from __future__ import annotations

import functools
import glob
import hashlib
import inspect
import os
from collections.abc import Callable
from types import CodeType


def code_digest(build: Callable) -> str:
    """The build function's code and the Python files beside it (its package, or its module alone) with the
    package's data files (``data/``, e.g. a word list a classifier reads): a change to a helper it calls (a
    statistic, a column list, a scoring function) reruns the table as a change to the build itself does.
    Files are named relative to the package, so a copy of the project elsewhere is the same."""
    try:
        code = inspect.getsource(build)
    except (OSError, TypeError):  # defined where no source is kept: its compiled code
        code = _compiled(build.__code__)
    file = getattr(inspect.getmodule(build), "__file__", None)
    if not file:
        return code
    folder = os.path.dirname(os.path.abspath(file))
    in_package = os.path.exists(os.path.join(folder, "__init__.py"))
    if not in_package:
        return code + files_digest(_stamped([os.path.abspath(file)]), root=folder)
    data = [path for path in glob.glob(os.path.join(folder, "data", "**", "*"), recursive=True) if os.path.isfile(path)]
    files = sorted(glob.glob(os.path.join(folder, "*.py")) + data)
    return code + files_digest(_stamped(files), root=folder)


def in_a_file(build: Callable) -> bool:
    """Whether the build was defined in a module file (not in a notebook cell or by ``exec``), whose helpers
    beside it its digest can cover."""
    return bool(getattr(inspect.getmodule(build), "__file__", None))


def package_digest(folder: str, within: tuple[str, ...]) -> str:
    """The digest of the Python files of ``folder`` that are, or are under, the names ``within`` it."""
    files = sorted(
        path
        for name in within
        for path in (
            glob.glob(os.path.join(folder, name, "**", "*.py"), recursive=True)
            if os.path.isdir(os.path.join(folder, name))
            else [os.path.join(folder, name)]
        )
    )
    return files_digest(_stamped(files), root=folder)


def _stamped(files: list[str]) -> tuple[tuple[str, int, int], ...]:
    stats = [(f, os.stat(f)) for f in files]
    return tuple((f, stat.st_mtime_ns, stat.st_size) for f, stat in stats)


@functools.lru_cache(maxsize=256)
def files_digest(stamped: tuple[tuple[str, int, int], ...], root: str) -> str:
    """The digest of the files' names (relative to ``root``) and contents; given with their modification times
    and sizes, so the files are read again only when one of them changed."""
    content = hashlib.sha256()
    for path, _modified, _size in stamped:
        with open(path, "rb") as file:
            content.update(os.path.relpath(path, root).encode() + b"\0" + file.read() + b"\0")
    return content.hexdigest()


def _compiled(code: CodeType) -> str:
    """Compiled code as text that is the same in every process (a nested function's code object would print
    its memory address)."""
    constants = "".join(_constant(c) for c in code.co_consts)
    return code.co_code.hex() + constants + repr(code.co_names)


def _constant(value: object) -> str:
    if isinstance(value, CodeType):
        return _compiled(value)
    if isinstance(value, frozenset):  # `x in {"a", "b"}`: its order changes with the process's hash seed
        return "frozenset(" + ",".join(sorted(_constant(v) for v in value)) + ")"
    return repr(value)
