"""The embedded CJK font every printout uses, registered once per process.

reportlab embeds TrueType outlines only; WenQuanYi Micro Hei (TrueType in a .ttc)
subsets and embeds, so a printout looks the same on every machine and printer.
The font is the base font of every style and of the canvas itself, so no
unembedded standard Helvetica ever lands in a PDF.
"""

from __future__ import annotations

import threading

from reportlab.lib.fonts import addMapping
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

from fieldrep.paths import font_path

FONT_NAME = "WenQuanYiMicroHei"

_lock = threading.Lock()
_registered = False


class FontMissing(Exception):
    """The bundled CJK font file is not where the resources should be."""


def ensure_font() -> str:
    """Register the bundled CJK font (first call only) and return its reportlab name."""
    global _registered
    with _lock:
        if not _registered:
            path = font_path()
            if not path.is_file():
                raise FontMissing(str(path))
            pdfmetrics.registerFont(TTFont(FONT_NAME, str(path), subfontIndex=0))
            # The font has no bold or italic faces: map <b>/<i> to the regular face
            # rather than letting reportlab fall back to an unembedded Helvetica.
            for bold in (0, 1):
                for italic in (0, 1):
                    addMapping(FONT_NAME, bold, italic, FONT_NAME)
            _registered = True
    return FONT_NAME
