"""The JVM libraries Spark needs, fetched once from Maven Central into the project folder.

Jars are listed explicitly (no transitive resolution at session start), verified against Maven
Central's SHA-1 files and cached under ``.jars/``, so a test run starts without the network once set up.
"""
from __future__ import annotations

import hashlib
import sys
import urllib.request
from pathlib import Path

from medallion.config import PROJECT_DIR
from medallion.errors import MedallionError

MAVEN_CENTRAL = "https://repo1.maven.org/maven2"
JAR_DIR = PROJECT_DIR / ".jars"

# group, artifact, version: the Delta Lake release paired with Spark 3.5.0, and the JDBC driver of the
# relational sources (PostgreSQL locally and in CI).
JARS: tuple[tuple[str, str, str], ...] = (
    ("io.delta", "delta-spark_2.12", "3.2.0"),
    ("io.delta", "delta-storage", "3.2.0"),
    ("org.postgresql", "postgresql", "42.7.4"),
)


def jar_paths() -> list[Path]:
    return [JAR_DIR / f"{artifact}-{version}.jar" for _, artifact, version in JARS]


def missing_jars() -> list[Path]:
    return [path for path in jar_paths() if not path.exists()]


def fetch_jars(quiet: bool = False) -> list[Path]:
    """Download every missing jar, checking its SHA-1; returns the full list of jar paths."""
    JAR_DIR.mkdir(parents=True, exist_ok=True)
    for group, artifact, version in JARS:
        target = JAR_DIR / f"{artifact}-{version}.jar"
        if target.exists():
            continue
        url = f"{MAVEN_CENTRAL}/{group.replace('.', '/')}/{artifact}/{version}/{artifact}-{version}.jar"
        if not quiet:
            print(f"fetching {group}:{artifact}:{version}", file=sys.stderr)
        try:
            payload = urllib.request.urlopen(url, timeout=120).read()
            expected = urllib.request.urlopen(url + ".sha1", timeout=60).read().decode().split()[0]
        except OSError as err:
            raise MedallionError(f"Could not download {url}: {err}. Check the network or proxy, then run `make jars`.") from None
        if hashlib.sha1(payload).hexdigest() != expected:
            raise MedallionError(f"Checksum mismatch for {url}; not saved. Run `make jars` again.")
        partial = target.with_suffix(".part")
        partial.write_bytes(payload)
        partial.rename(target)
    return jar_paths()


if __name__ == "__main__":
    fetch_jars()
