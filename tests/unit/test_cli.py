"""The command line: help on every command, one clear line and a non-zero exit for expected errors."""

import pytest

from medallion.cli import build_parser, main


def subcommands():
    parser = build_parser()
    action = next(a for a in parser._actions if a.dest == "command")
    return sorted(action.choices)


def test_core_commands_exist():
    assert {"setup", "produce", "run", "show", "reset", "runs", "notebook", "history", "pipelines"} <= set(
        subcommands()
    )


@pytest.mark.parametrize("command", subcommands())
def test_every_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as done:
        main([command, "--help"])
    assert done.value.code == 0
    assert "usage: medallion " + command in capsys.readouterr().out


def test_unknown_environment_is_one_clear_line(capsys):
    assert main(["show", "fitness.users", "--env", "staging"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: Unknown environment 'staging'") and "Traceback" not in err


def test_unknown_table_names_the_tables(capsys):
    assert main(["show", "fitness.nope"]) == 2
    assert "Pipeline 'fitness' has no table 'nope'. Tables: " in capsys.readouterr().err


def test_unknown_pipeline_is_refused_by_the_parser(capsys):
    with pytest.raises(SystemExit) as done:
        main(["run", "nope"])
    assert done.value.code == 2
    assert "invalid choice: 'nope'" in capsys.readouterr().err


def test_version(capsys):
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out == "medallion 0.1.0\n"


def every_option():
    parser = build_parser()
    command_action = next(a for a in parser._actions if a.dest == "command")
    yield "medallion", parser
    yield from sorted(command_action.choices.items())


@pytest.mark.parametrize("command, parser", list(every_option()))
def test_every_option_and_argument_has_help(command, parser):
    undocumented = [a.dest for a in parser._actions if not a.help and a.dest != "command"]
    assert undocumented == [], f"{command}: no help for {undocumented}"


def test_a_notebook_that_does_not_exist_is_a_usage_error_without_traceback(tmp_path, capsys):
    (tmp_path / "04-bronze.py").write_text("# Databricks notebook source\n")
    assert main(["notebook", str(tmp_path / "04-bronz.py")]) == 2
    err = capsys.readouterr().err
    assert err == f"error: {tmp_path / '04-bronz.py'} is not a file. Notebooks in {tmp_path}: 04-bronze.py.\n"


def test_a_file_that_is_not_a_notebook_is_a_usage_error(tmp_path, capsys):
    (tmp_path / "script.py").write_text("print('hi')\n")
    assert main(["notebook", str(tmp_path / "script.py")]) == 2
    assert "its first line must be '# Databricks notebook source'" in capsys.readouterr().err


@pytest.mark.parametrize(
    "arguments", [["show", "fitness.users", "--env", "qa"], ["runs", "--env", "qa"], ["report", "--env", "qa"]]
)
def test_local_readers_refuse_a_databricks_environment_in_one_line(arguments, capsys):
    assert main(arguments) == 2
    err = capsys.readouterr().err
    assert err.startswith(
        f"error: `medallion {arguments[0]}` reads a local storage root; conf/qa.yml is a Databricks "
        "environment (abfss://lakehouse@medallionqa.dfs.core.windows.net/medallion)."
    )
    assert "medallion_qa.<pipeline>_<layer>.<table>" in err and "Traceback" not in err


def test_an_unexpected_error_is_one_line_and_exit_1_with_the_traceback_only_when_verbose(monkeypatch, capsys):
    from medallion.cli.commands import pipelines

    def broken(args):
        raise KeyError("boom")

    monkeypatch.setattr(pipelines, "list_pipelines", broken)
    parser_defaults = build_parser  # the handler is bound when the parser is built

    def patched():
        parser = parser_defaults()
        command_action = next(a for a in parser._actions if a.dest == "command")
        command_action.choices["pipelines"].set_defaults(handler=broken)
        return parser

    monkeypatch.setattr("medallion.cli.build_parser", patched)
    assert main(["pipelines"]) == 1
    err = capsys.readouterr().err
    assert err == "error: unexpected KeyError: 'boom' (run with --verbose for the traceback)\n"
    assert main(["--verbose", "pipelines"]) == 1
    assert "Traceback (most recent call last)" in capsys.readouterr().err


def test_quiet_hides_progress_and_verbose_shows_debug():
    import logging

    from medallion.cli import configure_logging

    configure_logging(quiet=True)
    assert logging.getLogger("medallion").getEffectiveLevel() == logging.WARNING
    configure_logging(verbose=True)
    assert logging.getLogger("medallion").getEffectiveLevel() == logging.DEBUG
    configure_logging()
    assert logging.getLogger("medallion").getEffectiveLevel() == logging.INFO


def test_verbose_never_logs_the_commands_sent_to_the_jvm(capsys):
    """py4j logs every command at DEBUG, a JDBC source's password option included."""
    import logging

    from medallion.cli import configure_logging

    configure_logging(verbose=True)
    logging.getLogger("py4j.clientserver").debug("Command to send: c\no0\noption\nspassword\nshunter2\ne")
    logging.getLogger("medallion.sources").debug("reading the operational database")
    err = capsys.readouterr().err
    assert "hunter2" not in err and "reading the operational database" in err
    configure_logging()
