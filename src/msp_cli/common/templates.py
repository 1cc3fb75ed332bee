"""Jinja2 templates shipped inside msp's packages (invoices, e-mails, invitations).

Autoescaping is always on, so customer data (a customer named `<script>`) prints as text
in HTML and SVG. Jinja2 is imported when a template is first rendered, never at start-up.
"""

from __future__ import annotations

from decimal import Decimal
from functools import cache
from typing import Any

from msp_cli.common.money import format_amount


def money(value: Decimal | None) -> str:
    """An amount as every document prints it: '1,234.56', '-20.00'."""
    return "" if value is None else format_amount(value)


def address_lines(value: str | None) -> list[str]:
    return [line for line in (value or "").split("\n") if line.strip()]


@cache
def _environment(package: str, escape: bool) -> Any:
    import jinja2  # heavy: only when a document or message is rendered

    environment = jinja2.Environment(
        loader=jinja2.PackageLoader(package, "templates"),
        autoescape=escape,  # HTML and SVG: always, whatever the template's suffix
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    environment.filters["money"] = money
    environment.filters["address_lines"] = address_lines
    return environment


def render_template(package: str, name: str, **context: Any) -> str:
    """Render `templates/NAME` of `package` with autoescaping (HTML, SVG)."""
    return str(_environment(package, True).get_template(name).render(**context))


def render_text_template(package: str, name: str, **context: Any) -> str:
    """Render a plain-text template (an e-mail's text part): nothing to escape there."""
    return str(_environment(package, False).get_template(name).render(**context))


def safe(markup: str) -> Any:
    """Trusted markup (an SVG chart rendered by one of our templates) to embed in another."""
    import markupsafe  # comes with Jinja2

    return markupsafe.Markup(markup)
