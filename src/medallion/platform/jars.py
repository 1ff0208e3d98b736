"""The JVM libraries the project needs, resolved once into the project folder by Spark's own Ivy.

Each *group* is a set of Maven coordinates resolved with their dependencies by the Ivy that ships in
PySpark's ``jars/`` folder (its default resolver is Maven Central; no address is written here), and
copied into ``.jars/<group>/``. A stamp beside the jars records the coordinates, so a test run or a new
session starts without the network once set up, and changing a version resolves again.

- ``spark``: the jars of every embedded Spark session (Delta, the Kafka source, the JDBC driver);
  jars PySpark already ships are left out, so nothing is on the class path twice.
- ``connect``: the Spark Connect server of the pinned Spark (``scripts/spark-connect.sh``).
- ``kafka``: an Apache Kafka broker in KRaft mode (``scripts/kafka.sh``): its own class path, never Spark's.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from medallion.errors import MedallionError
from medallion.platform.config import PROJECT_DIR

log = logging.getLogger(__name__)

JAR_DIR = PROJECT_DIR / ".jars"
IVY_CACHE = JAR_DIR / ".ivy-cache"

# group -> (organisation, module, revision) coordinates, resolved transitively.
GROUPS: dict[str, tuple[tuple[str, str, str], ...]] = {
    # The Delta Lake release paired with Spark 3.5.0, Spark's Kafka source, the relational sources' driver.
    "spark": (
        ("io.delta", "delta-spark_2.12", "3.2.0"),
        ("org.apache.spark", "spark-sql-kafka-0-10_2.12", "3.5.0"),
        ("org.postgresql", "postgresql", "42.7.4"),
    ),
    "connect": (("org.apache.spark", "spark-connect_2.12", "3.5.0"),),
    "kafka": (("org.apache.kafka", "kafka_2.13", "4.1.1"),),
}


def pyspark_jars_dir() -> Path:
    import pyspark

    return Path(pyspark.__file__).parent / "jars"


def group_dir(group: str) -> Path:
    return JAR_DIR / group


def jar_paths(group: str = "spark") -> list[Path]:
    """The resolved jars of ``group`` (resolving them first when missing)."""
    resolve(group)
    return sorted(group_dir(group).glob("*.jar"))


def resolve(group: str) -> Path:
    """Resolve ``group`` into ``.jars/<group>/`` unless its stamp says it already is; returns the folder."""
    coordinates = GROUPS[group]
    target = group_dir(group)
    stamp = target / ".resolved"
    wanted = "\n".join(":".join(c) for c in coordinates)
    if stamp.exists() and stamp.read_text() == wanted:
        return target
    staging = Path(tempfile.mkdtemp(prefix=f".{group}-", dir=JAR_DIR if JAR_DIR.exists() else None))
    try:
        for organisation, module, revision in coordinates:
            _retrieve(organisation, module, revision, staging)
        if group == "spark":
            _drop_jars_spark_ships(staging)
        (staging / ".resolved").write_text(wanted)
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)  # a group is either whole or absent: an interrupted resolve leaves no half
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _retrieve(organisation: str, module: str, revision: str, into: Path) -> None:
    ivy = next(pyspark_jars_dir().glob("ivy-*.jar"), None)
    if ivy is None:
        raise MedallionError("PySpark's Ivy jar was not found: reinstall the pinned pyspark (make setup).")
    java = shutil.which("java")
    if java is None:
        raise MedallionError(
            "java was not found on the PATH: install a JDK 17 (apt-get install openjdk-17-jre-headless)."
        )
    log.info("resolving %s:%s:%s", organisation, module, revision)
    IVY_CACHE.mkdir(parents=True, exist_ok=True)
    command = [
        java,
        "-jar",
        str(ivy),
        "-cache",
        str(IVY_CACHE),
        "-dependency",
        organisation,
        module,
        revision,
        "-confs",
        "default",
        "-retrieve",
        str(into / "[organisation]__[artifact]-[revision](-[classifier]).[ext]"),
    ]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0 or "UNRESOLVED DEPENDENCIES" in done.stdout:
        last = "\n".join((done.stdout + done.stderr).strip().splitlines()[-8:])
        raise MedallionError(
            f"Could not resolve {organisation}:{module}:{revision} from Maven Central "
            f"(check the network or proxy, then run `make jars`):\n{last}"
        )


def _drop_jars_spark_ships(folder: Path) -> None:
    """Leave out what PySpark already has (Scala, Hadoop, Kafka's compressors...): by artifact name."""
    shipped = {_artifact(jar.name) for jar in pyspark_jars_dir().glob("*.jar")}
    for jar in folder.glob("*.jar"):
        if _artifact(jar.name.split("__", 1)[-1]) in shipped:
            jar.unlink()


def _artifact(file_name: str) -> str:
    """``snappy-java-1.1.10.3.jar`` → ``snappy-java``: the name without its version."""
    parts = file_name.removesuffix(".jar").split("-")
    while parts and parts[-1][:1].isdigit():
        parts.pop()
    return "-".join(parts)


def main(groups: list[str]) -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    for group in groups or ["spark"]:
        resolve(group)


if __name__ == "__main__":
    main(sys.argv[1:])
