"""Every command documents itself, ends its --help with examples that parse against the
real options, and docs/reference.md is generated from that help."""

import importlib.util
import shlex
from pathlib import Path

import pytest
import typer.main
from typer import _click
from typer.core import TyperGroup

from msp_cli.cli.app import app
from msp_cli.cli.help_examples import example_lines

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("generate_reference", ROOT / "scripts" / "generate_reference.py")
generate_reference = importlib.util.module_from_spec(spec)
spec.loader.exec_module(generate_reference)

COMMANDS = [path for path, _ in generate_reference.command_tree()]
IDS = [" ".join(p) for p in COMMANDS]
# What ends the msp part of an example line: a redirection, a pipe, the next command.
SHELL_OPERATORS = {">", ">>", "<", "|", "||", "&&", ";", "&"}


def test_the_walk_finds_every_group_and_command():
    assert ["msp"] in COMMANDS
    assert ["msp", "rebill", "issue"] in COMMANDS
    assert ["msp", "completion", "fish"] in COMMANDS
    assert len(COMMANDS) > 60


@pytest.mark.parametrize("path", COMMANDS, ids=IDS)
def test_every_command_has_help(run, path):
    result = run(*path[1:], "--help")
    assert result.exit_code == 0, result
    assert "Usage:" in result.stdout
    _, cmd = next((p, c) for p, c in generate_reference.command_tree() if p == path)
    assert (cmd.help or "").strip(), f"{' '.join(path)} has no help text"


def example_commands(help_text: str) -> list[list[str]]:
    """The example command lines of a --help, as the shell would split them: `# ...`
    lines are comments, a line ending in a backslash continues on the next, and the
    msp command stops at a redirection or a pipe."""
    commands, pending = [], ""
    for line in example_lines(help_text):
        if line.startswith("#") and not pending:
            continue
        if line.endswith("\\"):
            pending += line[:-1]
            continue
        lexer = shlex.shlex(pending + line, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        words = list(lexer)
        pending = ""
        cut = next((i for i, w in enumerate(words) if w in SHELL_OPERATORS), len(words))
        commands.append(words[:cut])
    assert not pending, "an example ends in a line continuation"
    return commands


def parse_command_line(words: list[str]) -> _click.Context:
    """Parse `msp ...` as msp would, down to the command it names, without running
    anything: unknown options, bad choices, missing or extra arguments raise UsageError."""
    assert words[0] == "msp", f"an example starts with msp: {words}"
    command = typer.main.get_command(app)
    ctx = command.make_context("msp", words[1:])
    while isinstance(command, TyperGroup):
        rest = [*ctx._protected_args, *ctx.args]
        if not rest:
            assert command.invoke_without_command, f"{' '.join(words)} names a group, not a command"
            break
        name, command, args = command.resolve_command(ctx, rest)
        ctx = command.make_context(name, args, parent=ctx)
    return ctx


@pytest.mark.parametrize("path", COMMANDS, ids=IDS)
def test_every_help_ends_with_examples_that_parse(run, path):
    result = run(*path[1:], "--help", env={"COLUMNS": "80"})
    assert result.exit_code == 0, result
    _, heading, section = result.stdout.partition("\nExamples:\n")
    assert heading, f"{' '.join(path)} --help has no Examples section"
    lines = [line for line in section.splitlines() if line.strip()]
    assert lines and all(line.startswith("  ") for line in lines), "Examples is the last section"
    assert all(len(line) <= 80 for line in result.stdout.splitlines()), "the help fits 80 columns"
    commands = example_commands(result.stdout)
    assert 1 <= len(commands) <= 3, commands
    for words in commands:
        try:
            parse_command_line(words)
        except _click.exceptions.UsageError as exc:
            pytest.fail(f"example `{shlex.join(words)}` of `{' '.join(path)}` does not parse: {exc.format_message()}")


@pytest.mark.parametrize(
    "line",
    [
        "msp customers list --fromat json",  # a renamed or misspelt option
        "msp customers list --format yaml",  # a value outside the choices
        "msp customers show",  # a missing argument
        "msp customers show acme beta",  # an extra argument
        "msp rebill shwo --customer acme",  # an unknown command
        "msp --database x.db customers list",  # a global option that does not exist
    ],
)
def test_a_wrong_example_would_fail(line):
    with pytest.raises(_click.exceptions.UsageError):
        parse_command_line(shlex.split(line))


def test_examples_keep_global_options_before_the_group():
    help_text = "Examples:\n  msp --db billing.db customers list --format json\n"
    (words,) = example_commands("\n" + help_text)
    ctx = parse_command_line(words)
    assert ctx.params["fmt"].value == "json"
    assert ctx.parent.parent.params["db"] == "billing.db"


def test_reference_is_up_to_date():
    current = (ROOT / "docs" / "reference.md").read_text()
    assert current == generate_reference.render(), "docs/reference.md is stale: run `make docs`"
