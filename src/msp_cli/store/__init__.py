"""Storage: the engine and the command's one transaction, the tables and their exact
money and UTC time column types, and the append-only schema migrations.

May import: `msp_cli.common`, SQLAlchemy/SQLModel and the database drivers.
"""
