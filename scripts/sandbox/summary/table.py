"""A table as rows and columns, each column a header and one cell formatter, and its two renderings:
Markdown (summary.md) and HTML (the report's verdict page). Plain Python only: the verdict page runs
in the base environment, which has no numpy.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import escape
from typing import Any, Callable, Generic, Iterable, Sequence, TypeVar

Row = TypeVar("Row")
CODE_SPAN = re.compile(r"`([^`]+)`")


@dataclass(frozen=True)
class Column(Generic[Row]):
    """One column: its header (Markdown inline code allowed) and how a row becomes its cell."""

    header: str
    cell: Callable[[Row], str]


@dataclass(frozen=True)
class Table(Generic[Row]):
    columns: Sequence[Column[Row]]
    rows: Sequence[Row]

    def headers(self) -> list[str]:
        return [column.header for column in self.columns]

    def cells(self) -> list[list[str]]:
        return [[column.cell(row) for column in self.columns] for row in self.rows]


def markdown_rows(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> list[str]:
    """A Markdown table's lines; a '|' inside a cell is escaped so that it cannot split the cell."""
    def line(cells: Sequence[Any]) -> str:
        return "| " + " | ".join(str(cell).replace("|", "\\|") for cell in cells) + " |"

    return [line(headers), "|" + "---|" * len(headers), *(line(row) for row in rows)]


def markdown_table(table: Table[Any]) -> list[str]:
    return markdown_rows(table.headers(), table.cells())


def inline_html(text: str) -> str:
    """Text escaped for HTML, its Markdown code spans (`name`) as <code>."""
    return CODE_SPAN.sub(r"<code>\1</code>", escape(text))


def html_table(table: Table[Any]) -> str:
    head = "".join(f"<th>{inline_html(header)}</th>" for header in table.headers())
    body = "".join("<tr>" + "".join(f"<td>{inline_html(cell)}</td>" for cell in row) + "</tr>"
                   for row in table.cells())
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
