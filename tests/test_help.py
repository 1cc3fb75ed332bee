"""Every command documents itself, and docs/reference.md is generated from that help."""

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("generate_reference", ROOT / "scripts" / "generate_reference.py")
generate_reference = importlib.util.module_from_spec(spec)
spec.loader.exec_module(generate_reference)

COMMANDS = [path for path, _ in generate_reference.command_tree()]


@pytest.mark.parametrize("path", COMMANDS, ids=[" ".join(p) for p in COMMANDS])
def test_every_command_has_help(run, path):
    result = run(*path[1:], "--help")
    assert result.exit_code == 0, result
    assert "Usage:" in result.stdout
    _, cmd = next((p, c) for p, c in generate_reference.command_tree() if p == path)
    assert (cmd.help or "").strip(), f"{' '.join(path)} has no help text"


def test_reference_is_up_to_date():
    current = (ROOT / "docs" / "reference.md").read_text()
    assert current == generate_reference.render(), "docs/reference.md is stale: run `make docs`"
