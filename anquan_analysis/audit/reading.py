"""Reading a bulletin's text from .txt/.md, .docx, text-layer .pdf and .html files."""

from __future__ import annotations

import html
import re
from pathlib import Path

from ..errors import InputError
from ..text import nfkc

SUFFIXES = (".txt", ".md", ".text", ".html", ".htm", ".docx", ".pdf")

def read_text(path) -> str:
    """The text of a bulletin (.txt/.md, .docx, text-layer .pdf, .html), NFKC-normalised.

    Plain text is decoded as UTF-8, else by charset detection (GB18030 files are common).
    A .docx gives its paragraphs, then its tables row by row (cells joined by tabs).
    Raises ``errors.InputError`` if the file is missing, of an unknown type, or unreadable.
    """
    p = Path(path)
    if not p.is_file():
        raise InputError(p, "文件不存在 (file not found)")
    suffix = p.suffix.lower()
    try:
        if suffix in (".txt", ".md", ".text", ""):
            text = _decode(p.read_bytes(), p)
        elif suffix in (".html", ".htm"):
            text = _html_to_text(_decode(p.read_bytes(), p))
        elif suffix == ".docx":
            text = _docx_text(p)
        elif suffix == ".pdf":
            text = _pdf_text(p)
        else:
            raise InputError(p, f"不支持的文件类型 {suffix!r} (expected .txt, .docx, .pdf, .html)")
    except InputError:
        raise
    except Exception as err:  # noqa: BLE001 - any reader failure is the user's file
        raise InputError(p, f"无法读取 (unreadable): {type(err).__name__}: {err}") from err
    return nfkc(text)


def _decode(data: bytes, path: Path) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        from charset_normalizer import from_bytes
        best = from_bytes(data).best()
        if best is None:
            raise InputError(path, "无法识别的文本编码 (unknown text encoding)") from None
        return str(best)


def _docx_text(path: Path) -> str:
    import docx
    doc = docx.Document(str(path))
    parts = [para.text for para in doc.paragraphs]
    for table in doc.tables:
        for row in table.rows:
            parts.append("\t".join(cell.text for cell in row.cells))
    return "\n".join(parts)


def _pdf_text(path: Path) -> str:
    import pdfplumber
    with pdfplumber.open(str(path)) as pdf:
        pages = [page.extract_text() or "" for page in pdf.pages]
    text = "\n".join(pages)
    if not text.strip():
        raise InputError(path, "PDF 没有文字层 (no text layer; scanned PDFs need OCR first)")
    return text


def _html_to_text(markup: str) -> str:
    markup = re.sub(r"(?is)<(script|style)\b.*?</\1>", "", markup)
    markup = re.sub(r"(?i)<br\s*/?>|</p>|</div>|</h\d>|</li>|</tr>", "\n", markup)
    return html.unescape(re.sub(r"<[^>]+>", "", markup))

