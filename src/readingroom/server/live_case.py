"""A live case page (Voila, a kernel per page) served under the kernel budget (:mod:`.live_kernels`).

The visitor is known by a cookie. Admitted, they get Voila's page, and the kernel they held
before is shut down; beyond the cap, a queue page with their place, which asks again every
few seconds (``?queue=1``, no kernel started) and reloads once a seat is theirs, and the
case without a kernel (``?kernel=0``) to read meanwhile.
"""

from __future__ import annotations

import re
import secrets

import jinja2
from jupyter_core.utils import ensure_async
from voila.handler import VoilaHandler

from readingroom.server.catalog import Card
from readingroom.server.live_kernels import RETRY_AFTER, KernelBudget

VISITOR_COOKIE = "rr_visitor"
KERNEL_ID = re.compile(r'"kernelId":\s*"([0-9a-f-]{36})"')  # in Voila's page config, ahead of the cells


def visitor_of(handler: VoilaHandler, base: str) -> str:
    """The visitor's id from their cookie, or a new one set in it (random, so it cannot be guessed)."""
    visitor = handler.get_cookie(VISITOR_COOKIE, "")
    if not re.fullmatch(r"[A-Za-z0-9_-]{22}", visitor):
        visitor = secrets.token_urlsafe(16)
        handler.set_cookie(VISITOR_COOKIE, visitor, path=base, httponly=True, samesite="Lax")
    return visitor


async def serve_live(handler: VoilaHandler, card: Card, budget: KernelBudget, environment: jinja2.Environment,
                     base: str) -> None:
    """Voila's page for ``card`` with a kernel, if the budget has a seat for this visitor; else the queue page."""
    visitor = visitor_of(handler, base)
    kernels = handler.kernel_manager
    if handler.get_argument("queue", "") == "1":
        handler.set_header("Cache-Control", "no-store")
        handler.finish({"position": budget.wait(visitor, kernels.list_kernel_ids())})
        return
    admission = budget.admit(visitor, kernels.list_kernel_ids())
    if not admission.admitted:
        handler.set_status(503)
        handler.set_header("Retry-After", str(RETRY_AFTER))
        handler.set_header("Cache-Control", "no-store")
        handler.finish(environment.get_template("queue.html").render(
            base=base, case=card.metadata, position=admission.position, retry_after=RETRY_AFTER))
        return
    kernel_id = None
    try:
        await _shut_down(kernels, admission.replaces)
        async for html in handler.get_generator(path=f"{card.slug}/case.ipynb"):
            found = kernel_id is None and KERNEL_ID.search(html)
            kernel_id = found.group(1) if found else kernel_id
            handler.write(html)
            handler.flush()
    finally:
        await _shut_down(kernels, budget.started(visitor, kernel_id))


async def _shut_down(kernels, kernel_id: str | None) -> None:
    if kernel_id and kernel_id in kernels.list_kernel_ids():  # the page's own beacon may have shut it already
        await ensure_async(kernels.shutdown_kernel(kernel_id))
