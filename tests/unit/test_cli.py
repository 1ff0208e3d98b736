"""The command line: help on every command, one clear line and a non-zero exit for expected errors."""
import pytest

from medallion.cli import build_parser, main


def subcommands():
    parser = build_parser()
    action = next(a for a in parser._actions if a.dest == "command")
    return sorted(action.choices)


def test_core_commands_exist():
    assert {"setup", "produce", "run", "show", "reset", "runs", "notebook", "history", "pipelines"} <= set(subcommands())


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
