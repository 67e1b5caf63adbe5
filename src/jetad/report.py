"""A one-page report of an analysis run, as Markdown and as HTML with the plots inline.

A report is a list of :class:`Section` objects (a title, paragraphs, tables and images with
paths relative to the report); :func:`write_report` renders it both ways.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Section", "Table", "write_report"]


@dataclass(frozen=True)
class Table:
    """A table: a header row and rows of cells (already formatted as strings)."""

    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Section:
    """One headed section of the report."""

    title: str
    paragraphs: tuple[str, ...] = ()
    tables: tuple[Table, ...] = ()
    images: tuple[str, ...] = field(default=())


def _markdown(title: str, sections: Sequence[Section]) -> str:
    lines = [f"# {title}", ""]
    for section in sections:
        lines += [f"## {section.title}", ""]
        for paragraph in section.paragraphs:
            lines += [paragraph, ""]
        for table in section.tables:
            lines.append("| " + " | ".join(table.header) + " |")
            lines.append("|" + "---|" * len(table.header))
            lines += ["| " + " | ".join(row) + " |" for row in table.rows]
            lines.append("")
        lines += [f"![{Path(image).stem}]({image})" for image in section.images]
        if section.images:
            lines.append("")
    return "\n".join(lines)


def _html(title: str, sections: Sequence[Section]) -> str:
    parts = [
        "<!DOCTYPE html>",
        f"<html><head><meta charset='utf-8'><title>{html.escape(title)}</title>",
        "<style>body{font-family:sans-serif;max-width:1100px;margin:auto}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 8px}"
        "img{width:48%}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
    ]
    for section in sections:
        parts.append(f"<h2>{html.escape(section.title)}</h2>")
        parts += [f"<p>{html.escape(p)}</p>" for p in section.paragraphs]
        for table in section.tables:
            parts.append(
                "<table><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in table.header)
            )
            for row in table.rows:
                parts.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>")
            parts.append("</table>")
        parts += [f"<img src='{html.escape(image)}' alt='{html.escape(image)}'>"
                  for image in section.images]  # fmt: skip
    parts.append("</body></html>")
    return "\n".join(parts)


def write_report(directory: Path, title: str, sections: Sequence[Section]) -> list[Path]:
    """Write ``report.md`` and ``report.html`` into ``directory``; returns their paths."""
    written = [directory / "report.md", directory / "report.html"]
    written[0].write_text(_markdown(title, sections) + "\n")
    written[1].write_text(_html(title, sections) + "\n")
    return written
