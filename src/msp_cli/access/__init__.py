"""Who acts and what they may do (`Actor`), and the hash-chained audit log that records
every change; `db copy`, which moves a whole database and verifies its audit chain.

May import: `msp_cli.store`, `msp_cli.common`.
"""
