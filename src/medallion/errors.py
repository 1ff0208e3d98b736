"""The errors a user may see. Each carries one actionable message; the CLI prints it without a traceback."""


class MedallionError(Exception):
    """Base class: an expected failure with a message that says what is wrong and how to fix it."""


class ConfigError(MedallionError):
    """A setting is unknown, of the wrong type, or missing."""


class UnknownPipelineError(MedallionError):
    """No pipeline of that name is registered."""


class UnknownTableError(MedallionError):
    """No table of that name is declared."""


class SourceError(MedallionError):
    """A source (landing folder, database, topic) is missing or unreachable."""


class ExpectationFailed(MedallionError):
    """An ``expect_or_fail`` rule was broken: the batch was not written."""


class CheckpointError(MedallionError):
    """A streaming checkpoint cannot be read; the message says how to recover."""


class ReconciliationError(MedallionError):
    """Rows in did not equal rows accepted + quarantined + dropped."""
