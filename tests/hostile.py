"""Hostile Office files, written as streams so the tests stay small in memory, and a
harness that runs a check in a forked child under an address-space limit."""

from __future__ import annotations

import io
import json
import os
import resource
import zipfile
import zlib

MB = 1024 * 1024
HEADROOM = 200 * MB

XXE = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
)
LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
        for i in range(1, 10)
    )
    + "]>\n"
)


def _vm_size() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmSize")


def run_limited(func, headroom: int = HEADROOM) -> dict:
    """``func()`` in a forked child limited to its current address space + ``headroom``.

    Returns ``{"outcome": "done", "value": …}``, ``{"outcome": "memory"}`` when the child hit
    the limit (MemoryError), or ``{"outcome": "error", "value": "Type: message"}``.
    """
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 0
        try:
            os.close(read_end)
            _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
            resource.setrlimit(resource.RLIMIT_AS, (_vm_size() + headroom, hard))
            try:
                report = {"outcome": "done", "value": func()}
            except MemoryError:
                report = {"outcome": "memory"}
            except BaseException as exc:  # noqa: BLE001 - reported to the parent
                report = {"outcome": "error", "value": f"{type(exc).__name__}: {exc}"}
            payload = json.dumps(report, default=str).encode()
            with os.fdopen(write_end, "wb") as out:
                out.write(payload)
        except BaseException:  # noqa: BLE001
            code = 1
        finally:
            os._exit(code)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as source:
        payload = source.read()
    os.waitpid(pid, 0)
    return json.loads(payload) if payload else {"outcome": "crashed"}


def replace_members(data: bytes, replacements: dict, extra: dict | None = None) -> bytes:
    """A copy of the zip ``data`` with members replaced: a value is bytes or a callable
    writing into the open member (for streamed, huge members)."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        members = {info.filename: info for info in source.infolist()}
        for name in [*members, *(extra or {})]:
            content = replacements.get(name, (extra or {}).get(name))
            if content is None:
                target.writestr(members[name], source.read(name))
            elif callable(content):
                info = zipfile.ZipInfo(name)
                info.compress_type = zipfile.ZIP_DEFLATED
                with target.open(info, "w", force_zip64=True) as member:
                    content(member)
            else:
                target.writestr(name, content)
    return out.getvalue()


class _RepeatingCompressor:
    """Stands in for the member's deflate compressor when the same block is written again
    and again: the block is compressed once, with a full flush (a self-contained piece of
    deflate stream), and that piece is repeated. Writing 1 GiB then costs its CRC only."""

    def __init__(self):
        self._inner = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)
        self._cache: dict[bytes, bytes] = {}

    def compress(self, data: bytes) -> bytes:
        if data not in self._cache:
            self._cache.clear()
            self._cache[data] = self._inner.compress(data) + self._inner.flush(zlib.Z_FULL_FLUSH)
        return self._cache[data]

    def flush(self) -> bytes:
        return self._inner.flush()


def repeated(head: bytes, block: bytes, count: int, tail: bytes = b""):
    """A member made of ``head``, ``count`` times ``block``, then ``tail``, written fast."""

    def write(member):
        member._compressor = _RepeatingCompressor()
        member.write(head)
        for _ in range(count):
            member.write(block)
        member.write(tail)

    return write


def zeros(size: int):
    return repeated(b"", bytes(MB), size // MB)


SHEET_HEAD = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
)


def identical_rows(rows: int, *, dimension: str):
    """A worksheet of ``rows`` identical rows (no row numbers), 26 bytes each."""
    block = b"<row><c><v>1</v></c></row>" * 10_000
    return repeated(
        SHEET_HEAD + f'<dimension ref="{dimension}"/><sheetData>'.encode(),
        block,
        rows // 10_000,
        b"</sheetData></worksheet>",
    )


def sheet_rows(rows: int, *, first: int = 1, dimension: str | None = None, column: str = "D"):
    """A worksheet of ``rows`` rows holding a number each, written as a stream."""

    def write(member):
        ref = dimension or f"A1:{column}{first + rows - 1}"
        member.write(SHEET_HEAD + f'<dimension ref="{ref}"/><sheetData>'.encode())
        batch = []
        for r in range(first, first + rows):
            batch.append(f'<row r="{r}"><c r="{column}{r}"><v>{r * 7 % 1000}</v></c></row>')
            if len(batch) == 10000:
                member.write("".join(batch).encode())
                batch = []
        member.write("".join(batch).encode() + b"</sheetData></worksheet>")

    return write
