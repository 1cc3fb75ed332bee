#!/usr/bin/env python3
"""Build the sdist and the wheel as a release would, install the wheel into a fresh
virtual environment outside the checkout, and take msp on a short tour from there.

    python scripts/wheel_check.py [--pipx] [--keep]     (`make wheel-check`; CI runs it)

Nothing of the checkout may help: the tour runs in an empty temporary directory with a
clean environment (no PYTHONPATH, no MSP_* settings, a HOME of its own), writes its own
FOCUS file, and checks that `msp_cli` is imported from the new environment. Every file of
the package (templates, SQL, anything read at run time) must be in both the sdist and
the wheel. With MSP_TEST_DATABASE_URL set (CI), the tour runs on PostgreSQL as well.
`--pipx` also installs the checkout with `pipx install .` (pipx itself goes into a
temporary environment) and runs msp from there. Exits 1 naming the first step that failed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import uuid
import zipfile
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "msp_cli"
MONTH = "2025-10"  # a closed month: never "in the future"
PAYER = "900000000001"

# The tour's cost file, and its bill worked out by hand: a 10 % margin on each Usage line,
# rounded half-even to cents once per line; the Tax row stays out of the bill.
FOCUS_ROWS = [
    # SubAccountId, SubAccountName, ChargeCategory, ServiceName, BilledCost
    ("900000000011", "Prod", "Usage", "Amazon EC2", "100.00"),
    ("900000000011", "Prod", "Usage", "Amazon S3", "20.50"),
    ("900000000012", "Dev", "Usage", "Amazon EC2", "5.25"),
    ("900000000012", "Dev", "Tax", "Tax", "3.00"),
]
EXPECTED_PRICES = {"Amazon EC2": ["110.00", "5.78"], "Amazon S3": ["22.55"]}  # 5.775 -> 5.78
EXPECTED_TOTAL = Decimal("138.33")  # 110.00 + 22.55 + 5.78
# What a working copy has and a fresh clone has not.
CHECKOUT_ONLY = (".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache", ".hypothesis", "*.db")


class CheckFailed(Exception):
    pass


def step(message: str) -> None:
    print(f"wheel check: {message}", flush=True)


def run(argv: list[str], *, cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
    proc = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    if proc.returncode != 0:
        shown = " ".join(argv)
        raise CheckFailed(f"`{shown}` exited {proc.returncode}:\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}")
    return proc.stdout


def package_files() -> list[str]:
    """Every file of the package in the source tree, as a path inside the package
    (`msp_cli/...`), bytecode left out."""
    files = []
    for path in sorted(PACKAGE.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix not in (".pyc", ".pyo"):
            files.append(str(path.relative_to(PACKAGE.parent)))
    return files


def build(dist: Path) -> tuple[Path, Path]:
    step("building the sdist and the wheel (python -m build) ...")
    run([sys.executable, "-m", "build", "--outdir", str(dist), str(ROOT)])
    (sdist,) = dist.glob("*.tar.gz")
    (wheel,) = dist.glob("*.whl")
    expected = package_files()
    in_wheel = set(zipfile.ZipFile(wheel).namelist())
    with tarfile.open(sdist) as archive:
        in_sdist = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    missing_wheel = [f for f in expected if f not in in_wheel]
    missing_sdist = [f for f in expected if f"src/{f}" not in in_sdist]
    if missing_wheel or missing_sdist:
        raise CheckFailed(
            f"package files missing: wheel {missing_wheel}, sdist {missing_sdist} (package-data in pyproject.toml)"
        )
    data = [f for f in expected if not f.endswith(".py")]
    step(f"  {sdist.name}, {wheel.name}: all {len(expected)} package files, {len(data)} of them data: {data}")
    return sdist, wheel


def install(wheel: Path, venv: Path) -> None:
    step(f"installing {wheel.name} into a fresh virtual environment ({venv}) ...")
    run([sys.executable, "-m", "venv", "--clear", str(venv)])
    pip = [str(venv / "bin" / "python"), "-m", "pip", "--disable-pip-version-check", "--quiet"]
    run([*pip, "install", f"{wheel}[postgres]"])
    run([*pip, "check"])


def write_focus(path: Path) -> None:
    header = (
        "ProviderName,BillingAccountId,BillingAccountName,SubAccountId,SubAccountName,BillingPeriodStart,"
        "ChargePeriodStart,ChargeCategory,ServiceName,BilledCost,EffectiveCost,ListCost,BillingCurrency"
    )
    lines = [header]
    for account, name, category, service, cost in FOCUS_ROWS:
        lines.append(
            f"AWS,{PAYER},Wheel payer,{account},{name},{MONTH}-01T00:00:00Z,{MONTH}-03T10:00:00Z,"
            f"{category},{service},{cost},{cost},{cost},USD"
        )
    path.write_text("\n".join(lines) + "\n")


def clean_env(venv: Path, home: Path, db: str) -> dict[str, str]:
    """Only what a user's login shell would have, and msp's database."""
    return {
        "PATH": f"{venv / 'bin'}{os.pathsep}/usr/local/bin{os.pathsep}/usr/bin{os.pathsep}/bin",
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "TMPDIR": str(home),
        "MSP_DB": db,
        "MSP_CONFIG": str(home / "config.toml"),
        "MSP_ACTOR": "wheel-check",
    }


def tour(venv: Path, where: Path, db: str, version: str) -> None:
    where.mkdir(parents=True)
    env = clean_env(venv, where, db)
    msp = str(venv / "bin" / "msp")

    def say(*args: str) -> str:
        return run([msp, *args], cwd=where, env=env)

    def as_json(*args: str) -> Any:
        return json.loads(say(*args, "--format", "json"))

    if say("--version").strip() != f"msp {version}":
        raise CheckFailed(f"msp --version: {say('--version').strip()!r}, built {version}")
    imported = run([str(venv / "bin" / "python"), "-c", "import msp_cli; print(msp_cli.__file__)"], cwd=where, env=env)
    if not Path(imported.strip()).is_relative_to(venv) or str(ROOT) in imported:
        raise CheckFailed(f"msp_cli was imported from {imported.strip()}, not from the new environment")
    say("payers", "add", PAYER, "--name", "Wheel payer", "--provider", "aws")
    say("customers", "create", "WHEEL", "--name", "Wheel Check", "--dedicated", PAYER)
    write_focus(where / "focus.csv")
    say("costs", "import", "focus.csv")
    accounts = as_json("accounts", "list", "--customer", "WHEEL")
    if sorted(a["id"] for a in accounts) != ["900000000011", "900000000012"]:
        raise CheckFailed(f"the dedicated customer's accounts: {accounts}")
    say("pricing", "add", "WHEEL", "--margin", "10")
    outcome = as_json("rebill", "--customer", "WHEEL", "--month", MONTH)
    if [o["status"] for o in outcome] != ["rebilled"]:
        raise CheckFailed(f"rebill: {outcome}")
    bill = as_json("rebill", "show", "--customer", "WHEEL", "--month", MONTH)
    prices: dict[str, list[str]] = {}
    for line in bill["lines"]:
        prices.setdefault(line["service"], []).append(line["price"])
    total = Decimal(bill["totals"][0]["price"])
    if {
        k: sorted(v, key=Decimal, reverse=True) for k, v in prices.items()
    } != EXPECTED_PRICES or total != EXPECTED_TOTAL:
        raise CheckFailed(f"the bill: prices {prices}, total {total}; expected {EXPECTED_PRICES}, {EXPECTED_TOTAL}")
    issued = as_json("rebill", "issue", "--customer", "WHEEL", "--month", MONTH)
    if [(d["type"], d["month"]) for d in issued] != [("invoice", MONTH)]:
        raise CheckFailed(f"rebill issue: {issued}")
    invoice = issued[0]
    say("invoices", "render", invoice["number"], "--output", "invoice.pdf")
    if not (where / "invoice.pdf").read_bytes().startswith(b"%PDF-"):
        raise CheckFailed("msp invoices render wrote no PDF")
    say("audit", "verify")
    if "complete -F _msp_completion msp" not in say("completion", "bash"):
        raise CheckFailed("msp completion bash printed no script")
    step(
        f"  tour on {db.split('://')[0] if '://' in db else 'sqlite'}: version, payer, dedicated customer, "
        f"cost import, margin, rebill ({total} USD), invoice {invoice['number']} as PDF, audit: ok"
    )


def pipx_install(work: Path) -> None:
    """`pipx install .` from the checkout, as the README says, and msp from its PATH."""
    step("pipx install . ...")
    tool = work / "pipx"
    run([sys.executable, "-m", "venv", str(tool / "venv")])
    run([str(tool / "venv" / "bin" / "python"), "-m", "pip", "--disable-pip-version-check", "-q", "install", "pipx"])
    places = {"PIPX_HOME": str(tool / "home"), "PIPX_BIN_DIR": str(tool / "bin"), "PIPX_MAN_DIR": str(tool / "man")}
    # From a copy of the checkout as a clone has it: an in-tree build leaves build/ behind.
    clone = work / "clone"
    shutil.copytree(ROOT, clone, ignore=shutil.ignore_patterns(*CHECKOUT_ONLY))
    run([str(tool / "venv" / "bin" / "pipx"), "install", "."], cwd=clone, env={**os.environ, **places})
    home = work / "pipx-tour"
    home.mkdir()
    env = {**clean_env(tool / "bin", home, str(home / "msp.db")), "PATH": f"{tool / 'bin'}{os.pathsep}/usr/bin:/bin"}
    shown = run(["msp", "--version"], cwd=home, env=env).strip()
    run(["msp", "customers", "create", "PIPX", "--name", "Installed with pipx"], cwd=home, env=env)
    listed = json.loads(run(["msp", "customers", "list", "--format", "json"], cwd=home, env=env))
    if [c["code"] for c in listed] != ["PIPX"]:
        raise CheckFailed(f"msp installed by pipx: customers {listed}")
    step(f"  {shown} from pipx's PATH: ok")


def postgres_database(venv: Path, admin_url: str) -> tuple[str, str]:
    """A new, empty database on the test server, created with the new environment's driver."""
    name = f"msp_wheel_{uuid.uuid4().hex[:12]}"
    conninfo = "postgresql://" + admin_url.split("://", 1)[1]
    code = f"import psycopg; c = psycopg.connect({conninfo!r}, autocommit=True); c.execute('CREATE DATABASE {name}')"
    run([str(venv / "bin" / "python"), "-c", code])
    base, _, query = admin_url.partition("?")
    return f"{base.rsplit('/', 1)[0]}/{name}" + (f"?{query}" if query else ""), name


def drop_postgres_database(venv: Path, admin_url: str, name: str) -> None:
    conninfo = "postgresql://" + admin_url.split("://", 1)[1]
    code = (
        f"import psycopg; c = psycopg.connect({conninfo!r}, autocommit=True); "
        f"c.execute('DROP DATABASE IF EXISTS {name} WITH (FORCE)')"
    )
    run([str(venv / "bin" / "python"), "-c", code])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/wheel_check.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--pipx", action="store_true", help="also check `pipx install .` (pipx from the index)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (printed)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="msp-wheel-check-"))
    try:
        _sdist, wheel = build(work / "dist")
        version = wheel.name.split("-")[1]
        install(wheel, work / "venv")
        tour(work / "venv", work / "sqlite", str(work / "sqlite" / "msp.db"), version)
        admin_url = os.environ.get("MSP_TEST_DATABASE_URL")
        if admin_url:
            url, name = postgres_database(work / "venv", admin_url)
            try:
                tour(work / "venv", work / "postgres", url, version)
            finally:
                drop_postgres_database(work / "venv", admin_url, name)
        else:
            step("  no MSP_TEST_DATABASE_URL: tour on SQLite only")
        if args.pipx:
            pipx_install(work)
    except CheckFailed as exc:
        step(f"FAILED: {exc}")
        return 1
    finally:
        if args.keep:
            step(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    step(f"ok ({time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
