"""Values and plumbing every domain shares: exact money, months, names and ids, `*`
patterns, email addresses, the streaming CSV reader, settings, typed errors.

May import: the standard library and small third-party libraries only; nothing of msp
outside `msp_cli.common`.
"""
