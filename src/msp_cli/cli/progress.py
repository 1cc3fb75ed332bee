"""Progress bars for long work (imports, `rebill --all`): on a terminal only, on stderr,
never when stderr is piped. One place builds them; commands hand the core a callback,
or None when there is nothing to draw."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from msp_cli.cli.output import make_console
from msp_cli.cli.terminal import Terminal

# update(done, total): total None when unknown (reading a pipe)
ProgressUpdate = Callable[[int, "int | None"], None]
# report(label, fraction done 0..1): one bar per file
FileProgress = Callable[[str, float], None]


@contextmanager
def _bars(terminal: Terminal, *columns: Any) -> Iterator[Any]:
    """rich's Progress on the terminal's stderr (callers check that it is a terminal)."""
    from rich.progress import Progress

    with Progress(*columns, console=make_console(terminal, terminal.stderr, True), transient=True) as bars:
        yield bars


def _columns(*middle: str) -> tuple[Any, ...]:
    from rich import progress

    return (
        progress.TextColumn("{task.description}", markup=False),
        progress.BarColumn(),
        *(getattr(progress, name)() for name in middle),
        progress.TimeElapsedColumn(),
    )


@contextmanager
def progress_bar(terminal: Terminal, description: str, *, unit: str = "items") -> Iterator[ProgressUpdate | None]:
    """One bar counting items (`rebill --all`) or bytes (`unit="bytes"`: a CSV read)."""
    if not terminal.stderr_tty:
        yield None
        return
    with _bars(terminal, *_columns("DownloadColumn" if unit == "bytes" else "MofNCompleteColumn")) as bars:
        task = bars.add_task(description, total=None)

        def update(done: int, total: int | None) -> None:
            bars.update(task, completed=done, total=total)

        yield update


@contextmanager
def file_progress(terminal: Terminal) -> Iterator[FileProgress | None]:
    """A bar per file being read (`costs import`), by the fraction done."""
    if not terminal.stderr_tty:
        yield None
        return
    with _bars(terminal, *_columns("TaskProgressColumn")) as bars:
        tasks: dict[str, Any] = {}

        def report(label: str, fraction: float) -> None:
            if label not in tasks:
                tasks[label] = bars.add_task(label, total=1.0)
            bars.update(tasks[label], completed=fraction)

        yield report
