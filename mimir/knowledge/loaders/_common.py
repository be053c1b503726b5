"""Helpers shared by the loaders: decoding text safely."""

from __future__ import annotations

import codecs
import re

from mimir.errors import InputFileError

# <meta charset="..."> or <meta http-equiv="Content-Type" content="text/html; charset=...">, or <?xml encoding="...">
_DECLARED = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]{1,40})|<\?xml[^>]{0,100}?encoding\s*=\s*["']([A-Za-z0-9_.:-]{1,40})""", re.I)


def declared_charset(data: bytes) -> str | None:
    """The character encoding an HTML/XML document declares in its first 4 KiB, if Python knows it."""
    match = _DECLARED.search(data[:4096])
    if not match:
        return None
    label = (match.group(1) or match.group(2)).decode("ascii").lower()
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def decode_html(data: bytes, name: str) -> str:
    """Like :func:`decode_text`, but a page that is not UTF-8 is decoded with the charset it declares."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF8)):
        return decode_text(data, name)
    try:
        return decode_text(data, name)
    except InputFileError:
        charset = declared_charset(data)
        if charset is None or charset.startswith("utf-16") or b"\x00" in data[:8192]:
            raise
    try:
        text = data.decode(charset)
    except UnicodeDecodeError as exc:
        raise InputFileError(f"{name}: not valid {charset} text (bad byte at position {exc.start}), the charset the page declares") from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def decode_text(data: bytes, name: str) -> str:
    """UTF-8 (with or without BOM) or BOM-marked UTF-16; anything else is refused by name.

    Binary content (NUL bytes) with a text extension is refused too: it is usually a file
    with the wrong extension.
    """
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise InputFileError(f"{name}: invalid UTF-16 text at byte {exc.start}") from None
    if b"\x00" in data[:8192]:
        raise InputFileError(f"{name}: looks like a binary file, not text (wrong extension?)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputFileError(
            f"{name}: not valid UTF-8 text (bad byte at position {exc.start}); re-save the file as UTF-8"
        ) from None
    return text.replace("\r\n", "\n").replace("\r", "\n")
