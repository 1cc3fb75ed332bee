"""The reseller's directory: payers, linked accounts, customers and their scope,
dedicated auto-assignment, customer users, and the customers and users CSV imports.

May import: `msp_cli.access`, `msp_cli.store`, `msp_cli.common`.
"""
