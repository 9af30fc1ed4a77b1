"""The red-team's PDF bomb (issue 17): pages sharing one small stream that inflates to a lot
of text operators. A few kilobytes on disk; each page interprets the whole stream again."""

from __future__ import annotations

import zlib


def make_pdf_bomb(*, pages: int = 10, inflated_bytes: int = 1_000_000) -> bytes:
    """``pages`` pages whose /Contents is one FlateDecode stream of about ``inflated_bytes``
    of ``(x) Tj`` operators (written by hand, like ``pdf_samples.make_pdf``)."""
    operator = b"(bomb) Tj "
    body = b"BT /F1 12 Tf 72 720 Td " + operator * (inflated_bytes // len(operator)) + b"ET"
    stream = zlib.compress(body, 9)
    content_object = 4 + pages
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [%s] /Count %d >>"
        % (b" ".join(b"%d 0 R" % (4 + i) for i in range(pages)), pages),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    page = (
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792]"
        b" /Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>" % content_object
    )
    objects.extend([page] * pages)
    objects.append(b"<< /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream" % (len(stream), stream))
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body_bytes in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body_bytes)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)
