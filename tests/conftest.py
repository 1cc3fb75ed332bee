"""Every test gets its own database and config file under tmp_path, and a `run` helper
that invokes the CLI in-process and returns exit code, stdout and stderr apart."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from msp_cli.cli.app import app

# Cost roll-up rows and a billed set of customers for pricing and rebilling tests; a real
# SMTP server for the delivery tests.
pytest_plugins = ["cost_rows", "smtp_server"]

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str

    def __repr__(self) -> str:  # shown by pytest when an assertion fails
        return f"Result(exit_code={self.exit_code}, stdout={self.stdout[-2000:]!r}, stderr={self.stderr[-2000:]!r})"


# Set (e.g. by `eval "$(scripts/start-postgres)"`) to run the suite on PostgreSQL:
# every test then gets a fresh database on that server instead of a SQLite file.
POSTGRES_URL = os.environ.get("MSP_TEST_DATABASE_URL")


# A PostgreSQL server for tests that need one whatever msp's own database is (a warehouse
# to import cost data from): `make test` passes it to the SQLite pass as well.
POSTGRES_SERVER_URL = os.environ.get("MSP_TEST_WAREHOUSE_URL") or POSTGRES_URL


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests about the SQLite file itself (mode, pragmas, not-a-database) do not apply to
    PostgreSQL, tests about a PostgreSQL server itself (roles, connections) need one as
    msp's database, and tests that need a PostgreSQL server beside msp's database (a
    warehouse) need one given: each is deselected where it does not apply, not skipped
    (`make test` always gives a server when one runs)."""
    kept = [i for i in items if i.get_closest_marker("sqlite_only" if POSTGRES_URL else "postgres_only") is None]
    if not POSTGRES_SERVER_URL:
        kept = [i for i in kept if i.get_closest_marker("postgres_server") is None]
    if len(kept) != len(items):
        config.hook.pytest_deselected(items=[i for i in items if i not in kept])
        items[:] = kept


@pytest.fixture(scope="session")
def postgres_template():
    """On the PostgreSQL pass: one database with msp's schema, cloned for every test
    (CREATE DATABASE ... TEMPLATE copies files, far cheaper than running migrations)."""
    if not POSTGRES_URL:
        yield None
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from msp_cli.store.database import Database

    name = f"msp_template_{os.getpid()}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    database = Database(make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False))
    database.ensure_schema()
    database.dispose()
    yield name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> bytes | None:
    """On the SQLite pass: the bytes of a database file with msp's schema, written into
    every test's database file, as the PostgreSQL pass clones a template database, so
    tests do not each run the migrations."""
    if POSTGRES_URL:
        return None
    from msp_cli.store.database import Database

    path = tmp_path_factory.mktemp("sqlite-template") / "msp.db"
    database = Database(str(path))
    database.ensure_schema()
    database.dispose()  # the last connection closed: the WAL is checkpointed into the file and removed
    assert not path.with_name("msp.db-wal").exists()
    return path.read_bytes()


@pytest.fixture
def fresh_database(tmp_path: Path, postgres_template: str | None, sqlite_template: bytes | None):
    """fresh_database(name) -> URL or path of a new database with msp's schema and no data
    for this test: a SQLite file, or a new database on the PostgreSQL test server (dropped
    afterwards)."""
    created: list[str] = []
    admin = None
    if POSTGRES_URL:
        from sqlalchemy import create_engine

        admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")

    def make(name: str = "msp", *, empty: bool = False) -> str:
        """`empty=True`: no schema at all, on SQLite no file (for tests about creating or
        copying one)."""
        if admin is None:
            path = tmp_path / f"{name}.db"
            if not empty and sqlite_template is not None and not path.exists():
                with open(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600), "wb") as stream:
                    stream.write(sqlite_template)
            return str(path)
        import uuid

        from sqlalchemy import text
        from sqlalchemy.engine import make_url

        db_name = f"msp_test_{uuid.uuid4().hex[:16]}"
        template = "" if empty else f' TEMPLATE "{postgres_template}"'
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{db_name}"{template}'))
        created.append(db_name)
        return make_url(POSTGRES_URL).set(database=db_name).render_as_string(hide_password=False)

    yield make
    if admin is not None:
        from sqlalchemy import text

        with admin.connect() as conn:
            for db_name in created:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def database_url(fresh_database) -> str:
    """The test's own database (what MSP_DB points at)."""
    return fresh_database("msp")


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, database_url: str) -> Path:
    """Point msp at a throw-away database and config; drop anything from the environment."""
    for var in list(os.environ):
        if var.startswith("MSP_") and var != "MSP_TEST_DATABASE_URL":
            monkeypatch.delenv(var)
    monkeypatch.setenv("MSP_DB", database_url)
    monkeypatch.setenv("MSP_CONFIG", str(tmp_path / "config.toml"))
    monkeypatch.setenv("MSP_ACTOR", "tester")
    monkeypatch.delenv("NO_COLOR", raising=False)
    return tmp_path


@pytest.fixture
def db_path(isolated: Path, database_url: str) -> Path | str:
    """The test database: the SQLite file, or the database URL on the PostgreSQL pass
    (anything that needs the file itself is marked sqlite_only)."""
    return database_url if POSTGRES_URL else Path(database_url)


def query_database(target: Path | str, statement: str, *params: object) -> list[tuple]:
    """Run one SQL statement (with `?` placeholders) on a database path or URL."""
    from sqlalchemy import create_engine, text

    url = str(target) if "://" in str(target) else f"sqlite:///{target}"
    parts = statement.split("?")
    named = parts[0] + "".join(f":p{i}{part}" for i, part in enumerate(parts[1:]))
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            result = conn.execute(text(named), {f"p{i}": v for i, v in enumerate(params)})
            return [tuple(r) for r in result] if result.returns_rows else []
    finally:
        engine.dispose()


@pytest.fixture
def sql(database_url: str):
    """Run one SQL statement directly against the test database (to tamper, or to check
    what was stored), on SQLite or PostgreSQL alike."""
    from sqlalchemy import create_engine, text

    url = database_url if "://" in database_url else f"sqlite:///{database_url}"
    engine = create_engine(url)

    def execute(statement: str, **params: object) -> list[tuple]:
        with engine.begin() as conn:
            result = conn.execute(text(statement), params)
            return [tuple(r) for r in result] if result.returns_rows else []

    yield execute
    engine.dispose()


@pytest.fixture
def run():
    """run("customers", "list", input=None) -> Result, in-process through Typer's runner."""
    runner = CliRunner()

    def invoke(*args: str, input: str | bytes | None = None, env: dict[str, str] | None = None) -> Result:
        result = runner.invoke(app, list(args), input=input, env=env, catch_exceptions=False)
        return Result(result.exit_code, result.stdout, result.stderr)

    return invoke


@pytest.fixture
def at_terminal():
    """at_terminal(*args, input="", stdin_tty=True, no_color=False) -> Result: the CLI
    in-process with a fake terminal (cli/terminal.py) in place of the process's streams,
    so tables, colour, prompts, chatter and progress bars take their terminal paths."""
    import io

    from msp_cli.cli.terminal import Terminal

    runner = CliRunner()

    def invoke(
        *args: str,
        input: str = "",
        stdin_tty: bool = True,
        stdout_tty: bool = True,
        stderr_tty: bool = True,
        no_color: bool = False,
        columns: int = 100,
    ) -> Result:
        terminal = Terminal(
            io.StringIO(input),
            io.StringIO(),
            io.StringIO(),
            stdin_tty=stdin_tty,
            stdout_tty=stdout_tty,
            stderr_tty=stderr_tty,
            no_color=no_color,
            columns=columns,
        )
        result = runner.invoke(app, list(args), obj=terminal, catch_exceptions=False)
        assert result.stdout == "" and result.stderr == "", "everything goes through the terminal object"
        return Result(result.exit_code, terminal.stdout.getvalue(), terminal.stderr.getvalue())

    return invoke


@pytest.fixture
def msp_process():
    """Run the installed `msp` as a separate process (for pipes, signals, start-up)."""

    def invoke(*args: str, input: str | None = None, env: dict[str, str] | None = None, timeout: float = 120) -> Result:
        proc = subprocess.run(
            [sys.executable, "-m", "msp_cli", *args],
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, **(env or {})},
        )
        return Result(proc.returncode, proc.stdout, proc.stderr)

    return invoke


def seed_payers_and_accounts(run: Callable[..., Result]) -> None:
    """Two payers, a handful of linked accounts, no customers."""
    assert run("payers", "add", "P1", "--name", "Main payer", "--provider", "aws").exit_code == 0
    assert run("payers", "add", "P2", "--name", "Second payer", "--provider", "azure").exit_code == 0
    for account_id, payer, name in [
        ("A1", "P1", "Prod main"),
        ("A2", "P1", "Prod SP-1"),
        ("A3", "P1", "SPARK analytics"),
        ("A4", "P1", "Prod-SP"),
        ("B1", "P2", "Dev box"),
        ("B2", "P2", "Test [lab]"),
    ]:
        assert run("accounts", "add", account_id, "--payer", payer, "--name", name).exit_code == 0


Build = Callable[[Callable[..., Result], str], None]


class DatabaseSnapshots:
    """Databases that many tests start from, each built once per session by msp commands
    (`build(run, database)`), then restored into a test's own database in one step: the
    file's bytes on SQLite, CREATE DATABASE ... TEMPLATE on PostgreSQL."""

    def __init__(self, folder: Path, postgres_template: str | None, sqlite_template: bytes | None) -> None:
        self.folder = folder
        self.postgres_template = postgres_template
        self.sqlite_template = sqlite_template
        self.built: dict[str, bytes | str] = {}
        self.admin = None
        if POSTGRES_URL:
            from sqlalchemy import create_engine

            self.admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")

    def restore(self, name: str, build: Build, target: str) -> None:
        """Make the test's database `target` (no one connected yet) what `build` made."""
        if name not in self.built:
            self.built[name] = self._build(name, build)
        snapshot = self.built[name]
        if isinstance(snapshot, bytes):
            Path(target).write_bytes(snapshot)  # the file exists: its mode (0600) stays
            return
        from sqlalchemy import text
        from sqlalchemy.engine import make_url

        assert self.admin is not None
        database = make_url(target).database
        with self.admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{database}" TEMPLATE "{snapshot}"'))

    def _build(self, name: str, build: Build) -> bytes | str:
        if self.admin is None:
            assert self.sqlite_template is not None
            path = self.folder / f"{name}.db"
            path.write_bytes(self.sqlite_template)
            build(self._cli(str(path), name), str(path))
            assert not path.with_name(f"{name}.db-wal").exists(), "a connection was left open"
            return path.read_bytes()
        from sqlalchemy import text
        from sqlalchemy.engine import make_url

        database = f"msp_snapshot_{name}_{os.getpid()}"
        with self.admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{database}" TEMPLATE "{self.postgres_template}"'))
        url = make_url(POSTGRES_URL).set(database=database).render_as_string(hide_password=False)
        build(self._cli(url, name), url)
        return database

    def _cli(self, database: str, name: str) -> Callable[..., Result]:
        """The `run` fixture's CLI, on the snapshot's database and config, with no other
        MSP_ variable from the environment."""
        runner = CliRunner()
        env: dict[str, str | None] = {var: None for var in os.environ if var.startswith("MSP_") or var == "NO_COLOR"}
        env |= {"MSP_DB": database, "MSP_CONFIG": str(self.folder / f"{name}.toml"), "MSP_ACTOR": "tester"}

        def invoke(*args: str, input: str | None = None) -> Result:
            result = runner.invoke(app, list(args), input=input, env=env, catch_exceptions=False)
            return Result(result.exit_code, result.stdout, result.stderr)

        return invoke

    def close(self) -> None:
        if self.admin is None:
            return
        from sqlalchemy import text

        with self.admin.connect() as conn:
            for database in self.built.values():
                conn.execute(text(f'DROP DATABASE IF EXISTS "{database!s}" WITH (FORCE)'))
        self.admin.dispose()


@pytest.fixture(scope="session")
def database_snapshots(tmp_path_factory, postgres_template, sqlite_template):
    """See DatabaseSnapshots (the `billing` fixture of tests/cost_rows.py uses it)."""
    snapshots = DatabaseSnapshots(tmp_path_factory.mktemp("snapshots"), postgres_template, sqlite_template)
    yield snapshots
    snapshots.close()


def build_seeded(run: Callable[..., Result], database: str) -> None:
    seed_payers_and_accounts(run)


@pytest.fixture
def seeded(database_snapshots, database_url, isolated, run):
    """Two payers, a handful of linked accounts, no customers (built once per session,
    restored for each test: see DatabaseSnapshots); returns `run`."""
    database_snapshots.restore("seeded", build_seeded, database_url)
    return run


@pytest.fixture
def seeded_examples(run):
    """The payers and linked accounts that examples/customers.csv refers to, added by the
    same `msp` lines the demo runs (examples/seed-accounts.sh)."""
    for line in (EXAMPLES / "seed-accounts.sh").read_text().splitlines():
        if line.startswith("msp "):
            result = run(*shlex.split(line)[1:])
            assert result.exit_code == 0, (line, result)
    return run
