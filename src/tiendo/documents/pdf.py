"""Word → PDF through LibreOffice headless.

Each conversion gets its own LibreOffice profile directory (``-env:UserInstallation``):
two conversions sharing a profile lock each other out and one of them is silently lost.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from tiendo.core.errors import TiendoError

DEFAULT_TIMEOUT = 180


class PdfError(TiendoError, RuntimeError):
    """The PDF could not be made; the message is Vietnamese, for the user."""

    code = "pdf.failed"


def soffice_path() -> str | None:
    configured = getattr(settings, "SOFFICE_PATH", "")
    if configured:
        return configured if Path(configured).exists() else None
    return shutil.which("soffice") or shutil.which("libreoffice")


def docx_to_pdf(docx: bytes, *, timeout: int = DEFAULT_TIMEOUT) -> bytes:
    soffice = soffice_path()
    if soffice is None:
        raise PdfError(
            _(
                "Không tạo được PDF: máy chủ chưa cài LibreOffice (lệnh soffice). Hãy cài gói "
                "libreoffice-writer-nogui và fonts-liberation2, hoặc tải bản Word (.docx)."
            ),
            code="pdf.no_libreoffice",
        )
    with tempfile.TemporaryDirectory(prefix="tiendo-pdf-") as work:
        work_dir = Path(work)
        source = work_dir / "baocao.docx"
        source.write_bytes(docx)
        profile = work_dir / f"lo-{uuid.uuid4().hex}"
        command = [
            soffice,
            "--headless",
            "--norestore",
            "--nolockcheck",
            f"-env:UserInstallation={profile.as_uri()}",
            "--convert-to",
            "pdf",
            "--outdir",
            str(work_dir),
            str(source),
        ]
        try:
            result = subprocess.run(
                command, capture_output=True, timeout=timeout, check=False, cwd=work_dir
            )
        except subprocess.TimeoutExpired as exc:
            raise PdfError(
                _("Không tạo được PDF: LibreOffice chạy quá %(seconds)s giây và đã bị dừng."),
                code="pdf.timeout",
                seconds=timeout,
            ) from exc
        target = work_dir / "baocao.pdf"
        if result.returncode != 0 or not target.exists():
            detail = (result.stderr or result.stdout).decode(errors="replace").strip()[:300]
            raise PdfError(
                _("Không tạo được PDF: LibreOffice báo lỗi (%(detail)s)."),
                code="pdf.conversion_failed",
                detail=detail or _("không rõ"),
            )
        return target.read_bytes()
