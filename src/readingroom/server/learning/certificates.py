"""The certificate PDF for its owner, and ``/verify/<code>`` for anyone holding the paper."""

from __future__ import annotations

from tornado import web

from readingroom.curriculum import Module, credits_text
from readingroom.curriculum.model import AMA_CREDIT
from readingroom.records import Certificate
from readingroom.server.learning.base import LearningHandler
from readingroom.server.base import public_base


def credit_line(certificate: Certificate) -> str:
    hours = certificate.quarter_hours / 4
    return f"{credits_text(hours)} {certificate.credit_type or AMA_CREDIT}{'' if hours == 1 else 's'}\u2122"


class VerifyHandler(LearningHandler):
    """GET ``/verify/<code>``: name, activity, date and credit, or 404 "No certificate with this code"."""

    def get(self, code: str) -> None:
        certificate = self.store.certificate(code) if code.isalnum() else None
        if certificate is None:
            self.render_page("verify.html", status=404, certificate=None, code=code)
            return
        name = self.store.participant(certificate.participant_id).display_name
        self.render_page("verify.html", certificate=certificate, name=name, credits=credit_line(certificate))


class CertificateHandler(LearningHandler):
    """GET ``/modules/<name>/certificate.pdf?code=``: only the signed-in participant the certificate is for."""

    def initialize(self, modules: dict[str, Module], **common) -> None:
        super().initialize(**common)
        self.modules = modules

    def get(self, name: str) -> None:
        from readingroom.curriculum import certificate_pdf

        user = self.require_user()
        module = self.modules.get(name)
        certificates = self.store.certificates(user.id, name) if module is not None else []
        wanted = self.get_argument("code", "")
        certificate = next((c for c in reversed(certificates) if not wanted or c.code == wanted), None)
        if certificate is None:
            raise web.HTTPError(404, "You have no such certificate for this module: finish its steps first.")
        verify_url = f"{public_base(self)}verify/{certificate.code}"
        self.set_header("Content-Type", "application/pdf")
        self.set_header("Content-Disposition", f'attachment; filename="certificate-{name}-{certificate.code}.pdf"')
        self.finish(certificate_pdf(certificate, user, module, verify_url))
