"""Deterministic zip packing: the same files always give the same bytes.

Entries are sorted by name, every timestamp is 1980-01-01 00:00:00 (the zip epoch), modes are
explicit Unix modes, there are no extra fields and no comment, and every entry is deflated at
a fixed level. The output depends only on the input bytes (and on zlib's deflate, which is the
same for one zlib version).
"""

from __future__ import annotations

import io
import stat
import zipfile
from collections.abc import Mapping

ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
COMPRESS_LEVEL = 9
_MADE_BY_UNIX = 3


def deterministic_zip(files: Mapping[str, tuple[bytes, int]]) -> bytes:
    """Zip `files` ({archive name: (data, permission bits)}) into deterministic bytes.

    Permission bits are the low 12 mode bits (e.g. 0o755); each entry is a regular file.
    """
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=False) as zf:
        for name in sorted(files):
            data, perm = files[name]
            info = zipfile.ZipInfo(name, date_time=ZIP_EPOCH)
            info.create_system = _MADE_BY_UNIX
            info.external_attr = (stat.S_IFREG | (perm & 0o7777)) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            info.extra = b""
            info.comment = b""
            zf.writestr(info, data, compresslevel=COMPRESS_LEVEL)
        zf.comment = b""
    return buf.getvalue()
