"""Filling a ``DataTable`` so that no frame shows it half-measured."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from rich.cells import cell_len
from rich.console import RenderableType
from rich.text import Text
from textual.widgets import DataTable


def _width(cell: RenderableType) -> int:
    return cell_len(cell.plain if isinstance(cell, Text) else str(cell))


def fill_table(table: DataTable[Any], rows: Iterable[tuple[str, Sequence[RenderableType]]]) -> None:
    """Replace the rows of ``table`` (its columns kept) by ``rows`` of (key, cells), with
    every column sized to its widest cell now. A ``DataTable`` measures new rows when it next
    idles; a frame drawn before that (on a busy machine) cuts every cell to its header's
    width, and the table keeps those drawn lines until its cursor moves."""
    rows = list(rows)
    table.clear()
    for i, column in enumerate(table.ordered_columns):
        column.auto_width = False
        column.width = max(
            [
                cell_len(column.label.plain),
                *(_width(cells[i]) for _, cells in rows if i < len(cells)),
            ]
        )
    for key, cells in rows:
        table.add_row(*cells, key=key)
