"""Uploaded Office files (.xlsx forms, .docx templates), inspected before anything parses them.

An Office file is a zip of XML parts, and every reader we use (openpyxl, python-docx,
docxtpl) trusts it: it unpacks whole parts into memory and hands them to an XML parser.
A 1 MB zip can unpack to gigabytes, an XML part can declare entities that expand a
thousandfold ("billion laughs") or point at files on the server (XXE). So
:func:`inspect_zip` looks at the archive first, from its directory and by streaming each
XML part through expat without building anything:

- the upload's own size, the number of parts, the sum of their unpacked sizes, each part's
  compression ratio and the size of each XML part a reader parses whole;
- no ``DOCTYPE`` or ``ENTITY`` declaration in any XML part (Office never writes one); the
  readers also parse through ``defusedxml`` (openpyxl uses it when installed), this check
  refuses the file with a message before they are reached;
- in the parts a reader streams row by row (a worksheet), no stretch of more than
  :data:`MAX_ROW_SPAN` bytes without a row: one giant row would be built whole.

``zipfile`` never yields more bytes than a part's directory entry declares (a mismatch is
a CRC error), so the declared sizes are what the readers will get.

Every refusal is an :class:`UploadError` with a Vietnamese message that names the file and,
when it is one part's fault, the part.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from dataclasses import dataclass
from xml.parsers import expat

from defusedxml import DTDForbidden, EntitiesForbidden
from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.utils.translation import gettext_lazy as _

from tiendo.core.errors import TiendoError
from tiendo.core.formatting import format_number

MB = 1024 * 1024
CHUNK = 64 * 1024
# A part smaller than this is never refused for its ratio: short XML parts compress well.
RATIO_FLOOR = MB
# In a streamed part, the most bytes between two row starts (a form's row is a few KB).
MAX_ROW_SPAN = MB
_AFTER_ROW = frozenset(b" \t\r\n/>")


class UploadError(TiendoError, ValueError):
    """An uploaded file refused before it is parsed; the message is Vietnamese."""

    code = "upload.refused"


def _too_large(name, max_bytes: int) -> UploadError:
    return UploadError(
        _("Tệp “%(name)s” lớn hơn %(mb)s MB."),
        code="upload.too_large",
        name=name,
        mb=_mb(max_bytes),
    )


@dataclass(frozen=True)
class ZipLimits:
    max_bytes: int  # the upload itself
    max_members: int
    max_unpacked: int  # sum of the parts' unpacked sizes
    max_xml_part: int  # an XML part a reader parses whole
    max_ratio: int  # unpacked / packed size of one part
    streamed: tuple[str, ...] = ()  # name prefixes of XML parts read as a stream


def default_limits(**overrides) -> ZipLimits:
    values = {
        "max_bytes": settings.UPLOAD_MAX_BYTES,
        "max_members": settings.UPLOAD_MAX_MEMBERS,
        "max_unpacked": settings.UPLOAD_MAX_UNPACKED_BYTES,
        "max_xml_part": settings.UPLOAD_MAX_XML_PART_BYTES,
        "max_ratio": settings.UPLOAD_MAX_RATIO,
    }
    values.update(overrides)
    return ZipLimits(**values)


def _mb(size: int) -> str:
    return format_number(size / MB, 1 if size % MB else 0)


def _size(file) -> int:
    if isinstance(file, (bytes, bytearray, memoryview)):
        return len(file)
    position = file.tell()
    file.seek(0, io.SEEK_END)
    size = file.tell()
    file.seek(position)
    return size


def _is_xml(name: str) -> bool:
    return name.lower().endswith((".xml", ".rels", ".vml"))


def inspect_zip(
    file, *, filename: str, kind: str, limits: ZipLimits, required: tuple[str, ...] = ()
) -> None:
    """Refuse ``file`` (bytes or a seekable binary file) unless it is a sane Office zip.

    ``kind`` names what was expected ("bảng tính Excel (.xlsx)"); ``required`` lists the
    parts the file must have. The file is left at position 0.
    """
    name = filename or _("(không tên)")
    if _size(file) > limits.max_bytes:
        raise _too_large(name, limits.max_bytes)
    source = io.BytesIO(file) if isinstance(file, (bytes, bytearray, memoryview)) else file
    source.seek(0)
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        raise UploadError(
            _("Tệp không đọc được: “%(name)s” không phải %(kind)s (không mở được dạng nén zip)."),
            code="upload.not_zip",
            name=name,
            kind=kind,
        ) from exc
    try:
        with archive:
            _check_directory(archive, name, kind, limits, required)
            for info in archive.infolist():
                if _is_xml(info.filename):
                    _scan_xml(
                        archive, info, name, streamed=info.filename.startswith(limits.streamed)
                    )
    finally:
        source.seek(0)


def _check_directory(archive, name, kind, limits: ZipLimits, required) -> None:
    infos = archive.infolist()
    _check_totals(infos, name, limits)
    names = set()
    for info in infos:
        if info.filename in names:
            raise UploadError(
                _("Tệp “%(name)s” hỏng: phần “%(part)s” có hai lần."),
                code="upload.duplicate_part",
                name=name,
                part=info.filename,
            )
        names.add(info.filename)
        for check in _MEMBER_CHECKS:
            check(info, name, limits)
    missing = [part for part in required if part not in names]
    if missing:
        raise UploadError(
            _("Tệp không đọc được: “%(name)s” không phải %(kind)s (thiếu phần “%(part)s”)."),
            code="upload.missing_part",
            name=name,
            kind=kind,
            part=missing[0],
        )


def _check_totals(infos, name, limits: ZipLimits) -> None:
    """The number of parts and the sum of their unpacked sizes."""
    if len(infos) > limits.max_members:
        raise UploadError(
            _("Tệp “%(name)s” có %(count)s phần, quá %(max)s phần một tệp Office có thể có."),
            code="upload.too_many_parts",
            name=name,
            count=format_number(len(infos)),
            max=format_number(limits.max_members),
        )
    total = sum(info.file_size for info in infos)
    if total > limits.max_unpacked:
        raise UploadError(
            _(
                "Tệp quá lớn khi giải nén: “%(name)s” giải nén ra %(size)s MB, quá %(max)s MB; "
                "biểu mẫu hay mẫu báo cáo không thể lớn như vậy."
            ),
            code="upload.unpacks_too_large",
            name=name,
            size=_mb(total),
            max=_mb(limits.max_unpacked),
        )


# Refusals of a part for a flag of its entry: the message names the file and the part only.
_ENTRY_REFUSALS = (
    (
        lambda info: info.flag_bits & 0x1,
        _("Tệp “%(name)s” có phần “%(part)s” được đặt mật khẩu; xin lưu lại không mật khẩu."),
        "upload.encrypted",
    ),
    (
        lambda info: info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED),
        _("Tệp “%(name)s” có phần “%(part)s” nén theo cách Office không dùng."),
        "upload.unknown_compression",
    ),
)


def _refuse_by_entry(info, name, limits: ZipLimits) -> None:
    for refused, message, code in _ENTRY_REFUSALS:
        if refused(info):
            raise UploadError(message, code=code, name=name, part=info.filename)


def _refuse_compression_ratio(info, name, limits: ZipLimits) -> None:
    packed = max(info.compress_size, 1)
    if info.file_size > RATIO_FLOOR and info.file_size > limits.max_ratio * packed:
        raise UploadError(
            _(
                "Tệp quá lớn khi giải nén: phần “%(part)s” của “%(name)s” nén %(ratio)s lần "
                "(tối đa %(max)s lần), có thể là tệp độc hại (bom nén)."
            ),
            code="upload.compression_ratio",
            name=name,
            part=info.filename,
            ratio=format_number(info.file_size // packed),
            max=format_number(limits.max_ratio),
        )


def _refuse_large_xml_part(info, name, limits: ZipLimits) -> None:
    part = info.filename
    if (
        _is_xml(part)
        and not part.startswith(limits.streamed)
        and info.file_size > limits.max_xml_part
    ):
        raise UploadError(
            _(
                "Tệp quá lớn khi giải nén: phần “%(part)s” của “%(name)s” là %(size)s MB, "
                "quá %(max)s MB."
            ),
            code="upload.part_too_large",
            name=name,
            part=part,
            size=_mb(info.file_size),
            max=_mb(limits.max_xml_part),
        )


# Checked in this order on every part, from its directory entry alone.
_MEMBER_CHECKS = (
    _refuse_by_entry,
    _refuse_compression_ratio,
    _refuse_large_xml_part,
)


def _last_row_start(window: bytes) -> int:
    """Where the last row tag (``<row`` or a prefixed ``x:row``) begins, -1 if none."""
    best = -1
    for needle in (b"<row", b":row"):
        end = len(window)
        while (position := window.rfind(needle, 0, end)) > best:
            following = window[position + 4 : position + 5]
            if following and following[0] in _AFTER_ROW:
                best = position
                break
            end = position
    return best


class _Forbidden(TiendoError):
    """Raised from inside expat at a comment, processing instruction or CDATA section of a
    streamed part; :func:`_scan_xml` turns it into the :class:`UploadError` the user sees."""

    code = "upload.xml_hidden_content"


def _scan_xml(archive, info, name: str, *, streamed: bool) -> None:
    """Stream one XML part through expat; refuse declarations and malformed XML."""
    parser = _guarded_parser(streamed=streamed)
    part = info.filename
    try:
        with archive.open(info) as stream:
            _feed(parser, stream, name, part, streamed=streamed)
    except UploadError:
        raise
    except _SCAN_FAILURES as exc:
        raise _scan_refusal(exc, name, part) from exc


def _guarded_parser(*, streamed: bool):
    """An expat parser that raises at any declaration, and in a streamed part at anything
    that could hide a row tag (a comment, processing instruction or CDATA section)."""
    parser = expat.ParserCreate()

    def doctype(*args):
        raise DTDForbidden(*args[:3])

    def entity(entity_name, *args):
        raise EntitiesForbidden(entity_name, None, None, None, None, None)

    def hidden(*args):
        raise _Forbidden()

    parser.StartDoctypeDeclHandler = doctype
    parser.EntityDeclHandler = entity
    parser.UnparsedEntityDeclHandler = entity
    parser.ExternalEntityRefHandler = entity
    if streamed:
        parser.CommentHandler = hidden
        parser.ProcessingInstructionHandler = hidden
        parser.StartCdataSectionHandler = hidden
    return parser


def _feed(parser, stream, name: str, part: str, *, streamed: bool) -> None:
    """Parse ``stream`` chunk by chunk; in a streamed part, refuse a row longer than
    :data:`MAX_ROW_SPAN` bytes."""
    offset = 0
    last_row = 0
    tail = b""
    while chunk := stream.read(CHUNK):
        parser.Parse(chunk, False)
        if streamed:
            window = tail + chunk
            found = _last_row_start(window)
            if found >= 0:
                last_row = max(last_row, offset - len(tail) + found)
            offset += len(chunk)
            if offset - last_row > MAX_ROW_SPAN:
                raise UploadError(
                    _(
                        "Phần “%(part)s” của tệp “%(name)s” có một dòng dài hơn %(mb)s MB; "
                        "biểu mẫu không có dòng nào như vậy."
                    ),
                    code="upload.row_too_long",
                    name=name,
                    part=part,
                    mb=_mb(MAX_ROW_SPAN),
                )
            tail = window[-32:]
    parser.Parse(b"", True)


# What may go wrong while a part is scanned, first match wins (UploadError is a ValueError
# and is re-raised before these): the message and code, and extra params from the error.
_SCAN_REFUSALS = (
    (
        (DTDForbidden, EntitiesForbidden),
        _(
            "Phần “%(part)s” của tệp “%(name)s” có khai báo DOCTYPE/ENTITY (tệp Office không "
            "bao giờ có; có thể là tệp độc hại): không nhận."
        ),
        "upload.xml_declaration",
        lambda exc: {},
    ),
    (
        (_Forbidden,),
        _(
            "Phần “%(part)s” của tệp “%(name)s” có chú thích hoặc chỉ thị XML mà bảng tính "
            "không có: không nhận."
        ),
        _Forbidden.code,
        lambda exc: {},
    ),
    (
        (expat.ExpatError,),
        _("Tệp “%(name)s” hỏng: phần “%(part)s” không phải XML đúng (dòng %(line)s: %(error)s)."),
        "upload.bad_xml",
        lambda exc: {"line": format_number(exc.lineno), "error": expat.ErrorString(exc.code)},
    ),
    (
        # CRC mismatch, truncated or corrupt deflate stream, a password we don't have
        (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError, RuntimeError),
        _("Tệp “%(name)s” hỏng: không giải nén được phần “%(part)s”."),
        "upload.corrupt_part",
        lambda exc: {},
    ),
)
_SCAN_FAILURES = tuple(kind for kinds, *_rest in _SCAN_REFUSALS for kind in kinds)


def _scan_refusal(exc: Exception, name: str, part: str) -> UploadError:
    # exc was caught as one of _SCAN_FAILURES, so one entry matches
    kinds, message, code, params = next(
        entry for entry in _SCAN_REFUSALS if isinstance(exc, entry[0])
    )
    return UploadError(message, code=code, name=name, part=part, **params(exc))


# --- while the request arrives -------------------------------------------------------------


class SizeLimitedUploadHandler(FileUploadHandler):
    """The first upload handler: a file beyond ``UPLOAD_MAX_BYTES`` is dropped as it
    arrives (the rest is read and discarded, nothing is written to disk);
    :func:`uploaded_file` then tells the user which file was too large."""

    def receive_data_chunk(self, raw_data, start):
        if start + len(raw_data) > settings.UPLOAD_MAX_BYTES:
            if self.request is not None:
                dropped = getattr(self.request, "_tiendo_dropped_uploads", {})
                dropped[self.field_name] = self.file_name
                self.request._tiendo_dropped_uploads = dropped
            raise SkipFile
        return raw_data

    def file_complete(self, file_size):
        return None


def uploaded_file(request, field: str):
    """The file posted as ``field``, ``None`` when none was chosen; :class:`UploadError`
    when it was larger than the site accepts."""
    upload = request.FILES.get(field)
    dropped = getattr(request, "_tiendo_dropped_uploads", {})
    if upload is None and field in dropped:
        raise _too_large(dropped[field], settings.UPLOAD_MAX_BYTES)
    if upload is not None and upload.size > settings.UPLOAD_MAX_BYTES:
        raise _too_large(upload.name, settings.UPLOAD_MAX_BYTES)
    return upload
