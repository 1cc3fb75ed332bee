"""Rebilling: pricing rules, computing bills from the cost roll-up, stored bill
versions, cooldowns and triggers, and invoices.

May import: `msp_cli.costs`, `msp_cli.directory`, `msp_cli.access`, `msp_cli.store`,
`msp_cli.common`.
"""
