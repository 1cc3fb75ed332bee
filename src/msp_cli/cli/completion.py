"""Shell completion: `msp completion bash|zsh|fish` prints a script; the shell runs it at
each Tab, and it calls msp back with `_MSP_COMPLETE=<shell>_complete` and `COMP_LINE` (the
command line up to the cursor). cli/app.py hands such a call to `answer`, which prints one
line per completion, `kind<TAB>value<TAB>help`, kind being `plain` or `file` (the shell
then completes file names itself).

What a value completes from, by the parameter's name (the commands name them
consistently):
- `code` and `--customer`: customer codes; `email` and `--as`: user emails; `--plan`:
  plan names; all from the database, through store/quick_lookup.py (no SQLAlchemy: a
  completion has 200 ms), without regard to case, within what `--as` may see;
- `--basis`, `--provider`, `--role`/ROLE, `config set KEY`: their fixed values; a month:
  `current` and `previous`; options
  with a choice type (`--format`, `--by`): theirs;
- a metavar naming a FILE, PATH or DIR: file names.
A command that names something new (`customers create CODE`) completes nothing there.

Nothing but completions may reach the shell: no database, a bad config, a damaged or
locked database, even a bug, all complete nothing, silently, and promptly.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any

import typer

from msp_cli.cli.help_examples import examples
from msp_cli.cli.registry import group_app

app = group_app(
    "completion",
    epilog=examples(
        "msp completion bash > ~/.local/share/bash-completion/completions/msp",
    ),
)

COMPLETE_VAR = "_MSP_COMPLETE"
DEADLINE_SECONDS = 1.5  # a completion that takes longer (an unreachable server) gives up

# -- the scripts -------------------------------------------------------------------------

BASH_SCRIPT = r"""# msp completion for bash (msp completion bash)
_msp_completion() {
    local kind value help found
    COMPREPLY=()
    while IFS=$'\t' read -r kind value help; do
        case "$kind" in
            plain) COMPREPLY+=("$value") ;;
            file)
                compopt -o filenames 2>/dev/null
                while IFS= read -r found; do COMPREPLY+=("$found"); done < <(compgen -f -- "$value")
                ;;
        esac
    done < <(_MSP_COMPLETE=bash_complete COMP_LINE="${COMP_LINE:0:COMP_POINT}" "$1" 2>/dev/null)
    return 0
}
complete -F _msp_completion msp
"""

ZSH_SCRIPT = r"""#compdef msp
# msp completion for zsh (msp completion zsh)
_msp_completion() {
    local -a plain described
    local line kind value help
    for line in "${(@f)$(_MSP_COMPLETE=zsh_complete COMP_LINE="${words[1,CURRENT]}" ${words[1]} 2>/dev/null)}"; do
        IFS=$'\t' read -r kind value help <<< "$line"
        case "$kind" in
            plain)
                if [[ -n "$help" ]]; then described+=("${value//:/\\:}:$help"); else plain+=("$value"); fi
                ;;
            file) _files ;;
        esac
    done
    (( ${#described} )) && _describe -V msp described
    # -U: msp has matched them already (codes and emails without regard to case)
    (( ${#plain} )) && compadd -U -V msp -a plain
    return 0
}
if [[ "${zsh_eval_context[-1]}" == loadautofunc ]]; then
    _msp_completion "$@"
else
    compdef _msp_completion msp
fi
"""

FISH_SCRIPT = r"""# msp completion for fish (msp completion fish)
function __msp_completion
    set -l command (commandline -opc)[1]
    set -l line (commandline -cp)
    env _MSP_COMPLETE=fish_complete COMP_LINE="$line" $command 2>/dev/null | while read -l -d \t kind value help
        switch $kind
            case plain
                if test -n "$help"
                    printf '%s\t%s\n' $value $help
                else
                    printf '%s\n' $value
                end
            case file
                __fish_complete_path $value
        end
    end
end
complete --command msp --no-files --arguments '(__msp_completion)'
"""

SCRIPTS = {"bash": BASH_SCRIPT, "zsh": ZSH_SCRIPT, "fish": FISH_SCRIPT}


def _print_script(ctx: typer.Context, shell: str) -> None:
    from msp_cli.cli import context

    context.get(ctx).stdout.write(SCRIPTS[shell])


@app.command(
    "bash",
    epilog=examples(
        "msp completion bash > ~/.local/share/bash-completion/completions/msp",
    ),
)
def bash(ctx: typer.Context) -> None:
    """Print the bash completion script.

    Save it once where bash-completion loads it on first use, or load it from ~/.bashrc:

    \b
      msp completion bash > ~/.local/share/bash-completion/completions/msp
      echo 'eval "$(msp completion bash)"' >> ~/.bashrc
    """
    _print_script(ctx, "bash")


@app.command(
    "zsh",
    epilog=examples(
        "msp completion zsh > ~/.zfunc/_msp",
    ),
)
def zsh(ctx: typer.Context) -> None:
    """Print the zsh completion script.

    Save it as _msp in a directory of $fpath (before compinit runs in ~/.zshrc), or load
    it from ~/.zshrc after compinit:

    \b
      mkdir -p ~/.zfunc && msp completion zsh > ~/.zfunc/_msp
      # in ~/.zshrc: fpath=(~/.zfunc $fpath); autoload -Uz compinit; compinit
      echo 'eval "$(msp completion zsh)"' >> ~/.zshrc
    """
    _print_script(ctx, "zsh")


@app.command(
    "fish",
    epilog=examples(
        "msp completion fish > ~/.config/fish/completions/msp.fish",
    ),
)
def fish(ctx: typer.Context) -> None:
    """Print the fish completion script.

    Save it once where fish loads it on first use:

    \b
      msp completion fish > ~/.config/fish/completions/msp.fish
    """
    _print_script(ctx, "fish")


# -- what a parameter completes ----------------------------------------------------------

Item = tuple[str, str, str]  # (kind, value, help)

DATABASE_VALUES = {"code": "customer", "customer": "customer", "email": "email", "as_user": "email", "plan": "plan"}
# (command, parameter) pairs that complete something other than their name says:
BY_COMMAND = {("users remove", "emails"): "email", ("plans show", "name"): "plan", ("plans delete", "name"): "plan"}
NEW_VALUES = {("customers create", "code"), ("plans create", "name")}  # a name not taken yet
FILE_METAVARS = ("FILE", "PATH", "DIR")
MONTH_PARAMETERS = ("month", "from_month", "to_month")  # options.month_option


def fixed_values(command: str, name: str) -> tuple[str, ...] | None:
    """The values of a parameter with a fixed set of them, else None."""
    from msp_cli.common.naming import BASES, PROVIDERS, ROLES
    from msp_cli.common.settings import KNOWN_KEYS

    if (command, name) == ("config set", "key"):
        return tuple(KNOWN_KEYS)
    if name in MONTH_PARAMETERS:
        return ("current", "previous")  # or YYYY-MM, or -N: typed
    return {"basis": BASES, "provider": PROVIDERS, "role": ROLES}.get(name)


def complete_parameter(ctx: Any, param: Any, incomplete: str) -> list[Item]:
    command = " ".join(ctx.command_path.split()[1:])
    name = param.name or ""
    if (command, name) in NEW_VALUES:
        return []
    kind = BY_COMMAND.get((command, name)) or DATABASE_VALUES.get(name)
    if kind is not None:
        return [("plain", value, "") for value in database_values(ctx, kind, incomplete)]
    fixed = fixed_values(command, name)
    if fixed is not None:
        return [("plain", value, "") for value in fixed if value.startswith(incomplete.lower())]
    choices = [("plain", str(item.value), "") for item in param.shell_complete(ctx, incomplete)]
    if choices:
        return choices
    if any(word in (param.metavar or "") for word in FILE_METAVARS):
        return [("file", incomplete, "")]
    return []


def database_values(ctx: Any, kind: str, incomplete: str) -> list[str]:
    """Values from the database in use (the --db, --config and --as typed before, else the
    environment and config file), or nothing at all when it cannot be read."""
    try:
        from msp_cli.common.settings import load_settings
        from msp_cli.store.quick_lookup import values_starting_with

        root = ctx.find_root().params
        settings = load_settings(config=root.get("config_path"), db=root.get("db"), as_user=root.get("as_user"))
        return values_starting_with(settings.db, kind, incomplete, as_user=settings.as_user)
    except Exception:  # no database, a bad config, damaged, locked, unreachable: nothing
        return []


def completions(cli: Any, prog_name: str, args: list[str], incomplete: str) -> list[Item]:
    from typer._click.core import Parameter
    from typer._click.shell_completion import _resolve_context, _resolve_incomplete
    from typer.core import _TyperParameter

    # Typer coerces every value with pydantic (60 ms to import, a third of the budget); a
    # completion only needs the words as typed, so they stay as typed while it parses.
    coerce = _TyperParameter.process_value
    _TyperParameter.process_value = _as_typed  # type: ignore[method-assign,assignment]
    try:
        ctx = _resolve_context(cli, {}, prog_name, args)
        obj, incomplete = _resolve_incomplete(ctx, args, incomplete)
    finally:
        _TyperParameter.process_value = coerce  # type: ignore[method-assign]
    if isinstance(obj, Parameter):
        return complete_parameter(ctx, obj, incomplete)
    return [("plain", str(item.value), item.help or "") for item in obj.shell_complete(ctx, incomplete)]


def _as_typed(_param: Any, _ctx: Any, value: Any) -> Any:
    return value


# -- answering the shell -----------------------------------------------------------------


class _Deadline(Exception):
    pass


@contextmanager
def _silenced_within(seconds: float) -> Iterator[None]:
    """stderr to /dev/null (a warning from any library must not land in the shell), and
    a deadline, where the platform has one."""
    saved = sys.stderr
    timer = hasattr(signal, "setitimer")
    with open(os.devnull, "w") as devnull:
        sys.stderr = devnull
        if timer:
            previous: Callable[..., Any] | int | None = signal.signal(signal.SIGALRM, _raise_deadline)
            signal.setitimer(signal.ITIMER_REAL, seconds)
        try:
            yield
        finally:
            if timer:
                signal.setitimer(signal.ITIMER_REAL, 0)
                signal.signal(signal.SIGALRM, previous if previous is not None else signal.SIG_DFL)
            sys.stderr = saved


def _raise_deadline(_signum: int, _frame: Any) -> None:
    raise _Deadline()


def split_line(line: str) -> tuple[list[str], str]:
    """'msp customers show AC' -> (['customers', 'show'], 'AC'); a line ending in a space
    completes a new, empty word."""
    from typer._click.shell_completion import split_arg_string

    words = split_arg_string(line)
    incomplete = words.pop() if words and not line[-1:].isspace() else ""
    return words[1:], incomplete


def format_item(item: Item) -> str:
    kind, value, help_text = item
    if help_text:
        help_text = " ".join(help_text.split())  # one line, no tabs
    return f"{kind}\t{value}\t{help_text}\n"


def answer(cli: Any, prog_name: str, instruction: str) -> int:
    """Answer one `_MSP_COMPLETE` call: `<shell>_complete` prints the completions of
    COMP_LINE, `<shell>_source` the script. Anything else prints nothing. (This runs
    before any command, so there is no AppContext: it writes to the process's stdout.)"""
    shell, _, what = instruction.partition("_")
    if shell not in SCRIPTS:
        return 1
    if what == "source":
        sys.stdout.write(SCRIPTS[shell])
        return 0
    if what != "complete":
        return 1
    items: list[Item] = []
    with suppress(BaseException), _silenced_within(DEADLINE_SECONDS):
        args, incomplete = split_line(os.environ.get("COMP_LINE", ""))
        items = completions(cli, prog_name, args, incomplete)
    sys.stdout.write("".join(format_item(item) for item in items))
    sys.stdout.flush()
    return 0
