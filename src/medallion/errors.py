"""The errors a user may see. Each carries one actionable message; the CLI prints it without a traceback."""


class MedallionError(Exception):
    """Base class: an expected failure with a message that says what is wrong and how to fix it."""


class UsageError(MedallionError):
    """The command was called or configured wrongly (an unknown name, a wrong setting in conf/, a missing
    confirmation, a file that is not there): the CLI exits with 2, as for the options argparse refuses.
    Every other error is a runtime failure (data, services, a failing check): exit code 1."""


class ConfigError(UsageError):
    """A setting is unknown, of the wrong type, or missing."""


class UnknownEnvironmentError(ConfigError):
    """``--env`` names an environment that has no conf/<env>.yml."""


class UnknownPipelineError(UsageError):
    """No pipeline of that name is registered."""


class UnknownTableError(UsageError):
    """No table of that name is declared."""


class SourceError(MedallionError):
    """A source (landing folder, database, topic) is missing or unreachable."""


class ExpectationFailed(MedallionError):
    """An ``expect_or_fail`` rule was broken: the batch was not written."""


class CheckpointError(MedallionError):
    """A streaming checkpoint cannot be read; the message says how to recover."""


class ReconciliationError(MedallionError):
    """Rows in did not equal rows accepted + quarantined + dropped."""
