"""The CME certificate as a one-page landscape PDF (ReportLab), with a code and QR to verify it.

Everything a board or an auditor looks for is on the page as text (so it can be read back and
searched): participant, licence, activity, dates, format, credits, the designation statement,
the provider, and the verification code and URL.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from io import BytesIO
from pathlib import Path
from xml.sax.saxutils import escape

from readingroom.curriculum.model import LIVE, Module, credit_phrase, designation_statement
from readingroom.records import Certificate, Participant

FORMAT_NAMES = {LIVE: "Live activity", "self-study": "Enduring material (self-study)"}
_MARGIN = 54  # points: 3/4 inch
_DEJAVU = Path("/usr/share/fonts/truetype/dejavu")
REGULAR, BOLD, ITALIC = "CertificateSans", "CertificateSans-Bold", "CertificateSans-Italic"


def certificate_pdf(
    certificate: Certificate, participant: Participant, module: Module, verify_url: str, *, pagesize: str = "letter"
) -> bytes:
    """The PDF bytes; ``verify_url`` is the full address of this certificate's ``/verify/<code>`` page."""
    from reportlab.lib.pagesizes import A4, landscape, letter
    from reportlab.pdfgen.canvas import Canvas

    width, height = landscape({"letter": letter, "a4": A4}[pagesize.lower()])
    buffer = BytesIO()
    _register_fonts()
    canvas = Canvas(buffer, pagesize=(width, height), pageCompression=1)
    canvas.setTitle(f"CME certificate {certificate.code}")
    canvas.setAuthor(module.provider)
    canvas.setSubject(certificate.activity)
    _border(canvas, width, height)
    y = height - _MARGIN - 40
    y = _centred(canvas, "Certificate of CME Credit", BOLD, 26, width, y)
    y = _centred(canvas, "This certifies that", REGULAR, 12, width, y - 12)
    y = _centred(canvas, participant.display_name, BOLD, 22, width, y - 6)
    if participant.licence_id:
        y = _centred(canvas, f"Licence / board ID: {participant.licence_id}", REGULAR, 11, width, y)
    y = _centred(canvas, "has completed the activity", REGULAR, 12, width, y - 8)
    y = _paragraph(canvas, escape(certificate.activity), 16, width, y - 2, bold=True, centred=True)
    activity_format = certificate.format or "self-study"
    credit_type = certificate.credit_type or module.credit.credit_type
    rows = [
        ("Dates", _dates(certificate.started_at, certificate.completed_at)),
        ("Format", FORMAT_NAMES.get(activity_format, activity_format)),
        ("Credits awarded", credit_phrase(certificate.quarter_hours / 4, credit_type)),
        ("Provider", module.provider),
    ]
    y -= 18
    for label, value in rows:
        canvas.setFont(BOLD, 12)
        canvas.drawRightString(width / 2 - 110, y, f"{label}:")
        y = _paragraph(canvas, escape(value), 12, width, y + 12, left=width / 2 - 100) - 8
    statement = designation_statement(module.provider, module.credit.max_credits, activity_format)
    _paragraph(canvas, escape(statement), 10.5, width, y - 16, italic=True, centred=True)
    _verification(canvas, certificate.code, verify_url, width)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


@lru_cache(maxsize=1)
def _register_fonts() -> None:
    """Embed a TrueType font: the PDF base fonts cannot print names such as Łukasz or Nguyễn.

    DejaVu Sans where installed (Latin, Greek and Cyrillic scripts), else ReportLab's own Vera.
    """
    import reportlab
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if (_DEJAVU / "DejaVuSans.ttf").is_file():
        files = [_DEJAVU / f"DejaVuSans{suffix}.ttf" for suffix in ("", "-Bold", "-Oblique")]
    else:
        vera = Path(reportlab.__file__).parent / "fonts"
        files = [vera / name for name in ("Vera.ttf", "VeraBd.ttf", "VeraIt.ttf")]
    for name, file in zip((REGULAR, BOLD, ITALIC), files, strict=True):
        pdfmetrics.registerFont(TTFont(name, str(file)))


def _dates(started_at: datetime | None, completed_at: datetime) -> str:
    end = f"{completed_at:%d %B %Y}".lstrip("0")
    if started_at is None or started_at.date() == completed_at.date():
        return end
    return f"{started_at:%d %B %Y}".lstrip("0") + f" \u2013 {end}"


def _border(canvas, width: float, height: float) -> None:
    canvas.setStrokeColorRGB(0.16, 0.29, 0.45)
    canvas.setLineWidth(3)
    canvas.rect(_MARGIN / 2, _MARGIN / 2, width - _MARGIN, height - _MARGIN)


def _centred(canvas, text: str, font: str, size: float, width: float, y: float) -> float:
    """One centred line, in a smaller size if it would not fit between the margins (a long name)."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    size = min(size, size * (width - 3 * _MARGIN) / max(stringWidth(text, font, size), 1))
    canvas.setFont(font, size)
    canvas.drawCentredString(width / 2, y, text)
    return y - size * 1.5


def _paragraph(
    canvas,
    markup: str,
    size: float,
    width: float,
    top: float,
    *,
    bold: bool = False,
    italic: bool = False,
    centred: bool = False,
    left: float | None = None,
) -> float:
    """Wrapped text whose first line's top is at ``top``; returns the baseline below it."""
    from reportlab.lib.enums import TA_CENTER, TA_LEFT
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import Paragraph

    font = BOLD if bold else ITALIC if italic else REGULAR
    style = ParagraphStyle(
        "cert", fontName=font, fontSize=size, leading=size * 1.3, alignment=TA_CENTER if centred else TA_LEFT
    )
    x = _MARGIN * 1.5 if left is None else left
    available = width - x - _MARGIN * 1.5
    paragraph = Paragraph(markup, style)
    _, used = paragraph.wrapOn(canvas, available, 1000)
    paragraph.drawOn(canvas, x, top - used)
    return top - used - size * 0.6


def _verification(canvas, code: str, url: str, width: float) -> None:
    from reportlab.graphics import renderPDF
    from reportlab.graphics.barcode.qr import QrCodeWidget
    from reportlab.graphics.shapes import Drawing

    side = 72
    widget = QrCodeWidget(url)
    x0, y0, x1, y1 = widget.getBounds()
    drawing = Drawing(side, side, transform=[side / (x1 - x0), 0, 0, side / (y1 - y0), 0, 0])
    drawing.add(widget)
    left = _MARGIN * 1.5
    renderPDF.draw(drawing, canvas, left, _MARGIN * 0.75)
    canvas.setFont(BOLD, 11)
    canvas.drawString(left + side + 12, _MARGIN * 0.75 + 44, f"Verification code: {code}")
    canvas.setFont(REGULAR, 10)
    canvas.drawString(left + side + 12, _MARGIN * 0.75 + 28, f"Verify at {url}")
