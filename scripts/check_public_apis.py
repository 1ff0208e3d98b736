"""Fail when the library reaches into private Spark or JVM internals (``make lint``).

Databricks' serverless compute, standard-access (shared) clusters and every Spark Connect session have
no JVM handle in Python: code using one breaks there before the first table is written. So no file
under ``src/`` may name any of :data:`FORBIDDEN`, not even in a comment (a comment is where such code
comes back). Prints ``file:line: name`` for each use and exits 1; exits 0 when there is none.

Usage: ``python scripts/check_public_apis.py [folder ...]`` (default: ``src``).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

FORBIDDEN = ("_jvm", "_jsparkSession", "_jsc", "_jdf", "_jconf", "sparkContext", "py4j")
PATTERN = re.compile(
    r"(?<![A-Za-z0-9])(" + "|".join(re.escape(name) for name in FORBIDDEN) + r")(?![A-Za-z0-9])", re.IGNORECASE
)
SUFFIXES = {".py", ".sql", ".yml", ".yaml", ".properties", ".md", ".txt", ".json", ".cfg", ".toml"}


def uses(root: Path) -> list[str]:
    """``file:line: name`` for every use of a forbidden name in the text files under ``root``."""
    found = []
    files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in SUFFIXES)
    for path in files:
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except UnicodeDecodeError:
            continue
        for number, line in enumerate(lines, start=1):
            for match in PATTERN.finditer(line):
                found.append(f"{path}:{number}: {match.group(1)}")
    return found


def main(arguments: list[str]) -> int:
    roots = [Path(a) for a in arguments] or [Path("src")]
    found = [use for root in roots for use in uses(root)]
    for use in found:
        print(use)
    if found:
        print(
            f"{len(found)} use(s) of private Spark/JVM internals ({', '.join(FORBIDDEN)}): use public Spark, "
            "Delta and SQL APIs so the code runs over Spark Connect and on shared or serverless compute.",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
