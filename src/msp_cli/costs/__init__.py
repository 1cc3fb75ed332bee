"""Cost data: reading FOCUS exports with DuckDB (and the SQL that rolls them up),
storing the roll-up per payer-month, and the cost reports (`costs months`, `summary`).

May import: `msp_cli.directory`, `msp_cli.access`, `msp_cli.store`, `msp_cli.common`.
"""
