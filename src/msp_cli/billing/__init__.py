"""Rebilling: pricing rules and plans (rules: what each kind does and which one prices a
line; tiers: tiered margins and AWS support schedules), credit grants, computing bills
from the cost roll-up, stored bill versions, cooldowns and triggers, margins, and
invoices.

May import: `msp_cli.costs`, `msp_cli.directory`, `msp_cli.access`, `msp_cli.store`,
`msp_cli.common`.
"""
