"""Helpers shared by the loaders: decoding text safely."""

from __future__ import annotations

import codecs

from mimir.errors import InputFileError


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
