"""A document as a self-contained HTML page (Jinja2, autoescaped, inline styles, no
external requests) or a PDF (fpdf2, its standard fonts, so the text can be searched and
copied), both with the two charts as inline SVG.

The PDF's standard fonts cover Latin-1: other characters in names print as their
closest Latin-1 form or '?' (amounts, numbers and dates are ASCII and always exact).
"""

from __future__ import annotations

import io
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from msp_cli.access.actors import Actor
from msp_cli.billing.statements import Statement, build_statement
from msp_cli.common.errors import InvalidInput
from msp_cli.common.settings import Issuer
from msp_cli.common.templates import address_lines, money, render_template, safe

FORMATS = {".html": "html", ".htm": "html", ".pdf": "pdf"}
# Typography outside Latin-1 that the PDF's standard fonts cannot print.
PDF_REPLACEMENTS = str.maketrans(
    {"…": "...", "–": "-", "—": "-", "‘": "'", "’": "'", "“": '"', "”": '"', "€": "EUR", "\u00a0": " "}
)
BLUE, INK, MUTED, RULE = (47, 102, 144), (29, 43, 54), (102, 114, 124), (201, 209, 216)


def render_html(statement: Statement) -> str:
    return render_template(
        "msp_cli.billing",
        "document.html.j2",
        s=statement,
        d=statement.document,
        service_chart=safe(statement.service_chart_svg()),
        history_chart=safe(statement.history_chart_svg()),
    )


def latin1(text: str) -> str:
    """Text the PDF's standard fonts can print: Latin-1, else the closest form, else '?'."""
    text = text.translate(PDF_REPLACEMENTS)
    try:
        text.encode("latin-1")
        return text
    except UnicodeEncodeError:
        pass
    out = []
    for ch in text:
        if ord(ch) < 256:
            out.append(ch)
            continue
        base = unicodedata.normalize("NFKD", ch).encode("latin-1", "ignore").decode("latin-1")
        out.append(base or "?")
    return "".join(out)


def _svg_for_pdf(svg: str) -> bytes:
    """The chart as a standalone SVG file for fpdf2 (inline in HTML it needs no namespace,
    and the page then names no URL at all)."""
    svg = re.sub(r"<title>.*?</title>", "", svg, flags=re.S)  # fpdf2 draws no <title>
    svg = svg.replace("<svg ", '<svg xmlns="http://www.w3.org/2000/svg" ', 1)
    return latin1(svg).encode("utf-8")


class _Pdf:
    """Draws a statement on A4 pages with fpdf2 (imported only here: heavy)."""

    def __init__(self, footer: str) -> None:
        from fpdf import FPDF  # heavy: only when a PDF is rendered

        class Pages(FPDF):
            def footer(self) -> None:
                """The document and the page on every page: long documents run over several."""
                self.set_y(-12)
                self.set_font("Helvetica", size=7)
                self.set_text_color(*MUTED)
                self.cell(w=0, h=5, text=f"{footer} - page {self.page_no()} of {{nb}}", align="C")

        self.pdf: Any = Pages(orientation="portrait", unit="mm", format="A4")
        self.pdf.set_auto_page_break(auto=True, margin=18)
        self.pdf.set_margins(16, 16, 16)
        self.pdf.add_page()

    def font(self, size: float, style: str = "", colour: tuple[int, int, int] = INK) -> None:
        self.pdf.set_font("Helvetica", style=style, size=size)
        self.pdf.set_text_color(*colour)

    def line(
        self, text: str, *, size: float = 10, style: str = "", colour: tuple[int, int, int] = INK, **kw: Any
    ) -> None:
        self.font(size, style, colour)
        self.pdf.cell(text=latin1(text), new_x="LMARGIN", new_y="NEXT", **kw)

    def row(self, left: str, right: str, *, indent: float = 0, size: float = 10, style: str = "") -> None:
        pdf = self.pdf
        width = pdf.w - pdf.l_margin - pdf.r_margin
        self.font(size, style)
        pdf.set_x(pdf.l_margin + indent)
        pdf.cell(w=width - indent - 45, h=6, text=latin1(left))
        pdf.cell(w=45, h=6, text=latin1(right), align="R", new_x="LMARGIN", new_y="NEXT")

    def rule(self, colour: tuple[int, int, int] = RULE, width: float = 0.2) -> None:
        pdf = self.pdf
        pdf.set_draw_color(*colour)
        pdf.set_line_width(width)
        pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())

    def draw(self, s: Statement) -> bytes:
        pdf, d = self.pdf, s.document
        pdf.set_title(latin1(f"{s.title} {d.number}"))
        pdf.set_author(latin1(s.issuer.name or ""))
        pdf.set_creator("msp")
        top = pdf.get_y()
        # Issuer, left.
        if s.issuer.name:
            self.line(s.issuer.name, size=15, style="B", h=7)
        for text in address_lines(s.issuer.address):
            self.line(text, h=5)
        if s.issuer.tax_id:
            self.line(f"Tax id: {s.issuer.tax_id}", h=5)
        if s.issuer.email:
            self.line(s.issuer.email, h=5)
        left_bottom = pdf.get_y()
        # Document, right.
        pdf.set_xy(pdf.l_margin, top)
        self.line(s.title, size=20, style="B", colour=BLUE, h=9, align="R", w=0)
        self.line(d.number, size=12, style="B", h=6, align="R", w=0)
        facts = [("Issued", s.issued_on), ("Billing month", d.month), ("Period", s.period)]
        if d.refers_to:
            facts.append(("Refers to invoice", d.refers_to))
        for label, value in facts:
            self.line(f"{label}: {value}", size=9, h=5, align="R", w=0)
        if d.status == "void":
            self.line("VOID", size=12, style="B", colour=(181, 82, 59), h=7, align="R", w=0)
        pdf.set_y(max(left_bottom, pdf.get_y()) + 3)
        self.rule(BLUE, 0.8)
        pdf.ln(5)
        # Customer, left; total, right.
        top = pdf.get_y()
        self.line("BILL TO", size=8, colour=MUTED, h=5)
        self.line(s.customer_name, size=11, style="B", h=6)
        self.line(f"Customer {s.customer_code}", size=9, colour=MUTED, h=5)
        for text in address_lines(s.billing_address):
            self.line(text, h=5)
        left_bottom = pdf.get_y()
        pdf.set_xy(pdf.l_margin, top)
        label = f"{s.title} total" if s.is_note else "Total"
        self.line(label.upper(), size=8, colour=MUTED, h=5, align="R", w=0)
        self.line(f"{money(d.total)} {d.currency}", size=17, style="B", h=9, align="R", w=0)
        pdf.set_y(max(left_bottom, pdf.get_y()) + 4)
        if d.status == "void":
            self._notice(f"This document is void{': ' + d.void_reason if d.void_reason else ''}.")
        if s.is_note:
            effect = "the total is credited to you" if d.type == "credit-note" else "the total is charged in addition"
            self._notice(
                f"This {s.title.lower()} corrects invoice {d.refers_to} for {d.month}: each line is the change "
                f"of that line's price; {effect}."
            )
        # Charts, side by side.
        y = pdf.get_y() + 2
        half = (pdf.w - pdf.l_margin - pdf.r_margin - 6) / 2
        first = pdf.image(io.BytesIO(_svg_for_pdf(s.service_chart_svg())), x=pdf.l_margin, y=y, w=half)
        second = pdf.image(io.BytesIO(_svg_for_pdf(s.history_chart_svg())), x=pdf.l_margin + half + 6, y=y, w=half)
        pdf.set_y(y + max(first.rendered_height, second.rendered_height) + 4)
        # Lines.
        self.row("CHANGE" if s.is_note else "SERVICE", f"AMOUNT ({d.currency})", size=8, style="B")
        self.rule()
        for group in s.groups:
            pdf.ln(2)
            title = group.title + (f" - {group.subtitle}" if group.subtitle else "")
            self.row(title, "", style="B")
            for item in group.rows:
                self.row(item.label, money(item.amount), indent=6)
            if len(group.rows) > 1:
                self.row("Subtotal", money(group.subtotal), indent=6, style="I")
        if not s.groups:
            self.row("No lines.", "")
        pdf.ln(2)
        self.rule(INK, 0.5)
        pdf.ln(1)
        self.row(f"Total {d.currency}", f"{money(d.total)} {d.currency}", size=12, style="B")
        pdf.ln(6)
        issuer = f" by {s.issuer.name}" if s.issuer.name else ""
        self.font(8, colour=MUTED)
        pdf.multi_cell(
            w=0,
            h=4,
            text=latin1(
                f"{s.title} {d.number} - {s.customer_name} ({s.customer_code}) - {d.month} - "
                f"issued {s.issued_on}{issuer}. Amounts in {d.currency}."
            ),
        )
        return bytes(pdf.output())

    def _notice(self, text: str) -> None:
        self.font(9)
        self.pdf.set_fill_color(251, 246, 233)
        self.pdf.multi_cell(w=0, h=5, text=latin1(text), fill=True, padding=2, new_x="LMARGIN", new_y="NEXT")
        self.pdf.ln(2)


def render_pdf(statement: Statement) -> bytes:
    d = statement.document
    return _Pdf(latin1(f"{statement.title} {d.number} - {statement.customer_code} - {d.month}")).draw(statement)


def output_format(path: str) -> str:
    """html or pdf, by the file's suffix (exit 2 for anything else)."""
    fmt = FORMATS.get(Path(path).suffix.lower())
    if fmt is None:
        raise InvalidInput(f"cannot tell the format of {path!r}: name the file .html or .pdf")
    return fmt


def render_bytes(statement: Statement, fmt: str) -> bytes:
    return render_pdf(statement) if fmt == "pdf" else render_html(statement).encode("utf-8")


@dataclass(frozen=True)
class Rendered:
    number: str
    path: str
    format: str
    bytes: int


def render_document(session: Session, actor: Actor, number: str, output: str, issuer: Issuer) -> Rendered:
    """Write one document to OUTPUT (.html or .pdf); a customer user: its own documents."""
    fmt = output_format(output)
    statement = build_statement(session, actor, number, issuer)
    content = render_bytes(statement, fmt)
    target = Path(output).expanduser()
    try:
        target.write_bytes(content)
    except OSError as exc:
        raise InvalidInput(f"cannot write {output}: {exc.strerror}")
    return Rendered(statement.document.number, output, fmt, len(content))
