"""Progress bars for long work: shown on a terminal only, never when stderr is piped."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

# update(done, total): total None when unknown (reading a pipe)
ProgressUpdate = Callable[[int, "int | None"], None]


def _ignore(done: int, total: int | None) -> None:
    return None


@contextmanager
def progress_bar(description: str) -> Iterator[ProgressUpdate]:
    """Yield an update callback; a rich progress bar (imported lazily) on a terminal."""
    if not sys.stderr.isatty():
        yield _ignore
        return
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    from msp_cli.cli.output import make_console

    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TimeElapsedColumn())
    with Progress(*columns, console=make_console(sys.stderr), transient=True) as bar:
        task = bar.add_task(description, total=None)

        def update(done: int, total: int | None) -> None:
            bar.update(task, completed=done, total=total)

        yield update
