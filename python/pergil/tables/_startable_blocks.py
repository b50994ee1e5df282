"""Worker side of load_startables: split a sheet's cell rows into StarTable blocks (pure Python).

This module runs in pergil worker interpreters, so it imports the standard library only (never
pandas or numpy). It follows pdtable 1.0.1's ``parse_blocks_stable`` state machine line by line
(pdtable/io/parsers/blocks.py), so that the blocks, their order and their first rows are the ones
pdtable finds. Tables whose every column converts without pdtable's fixer are parsed here into
plain buffers (see _startable_columns); every other block travels as its raw cell grid and the
main interpreter runs pdtable's own handler on it.
"""

import re

from pergil.tables._startable_columns import parse_table_fast

# pdtable.store.BlockType values, by name (the enum itself lives in pdtable, which needs pandas).
DIRECTIVE, TABLE, TEMPLATE_ROW, METADATA, BLANK = 1, 2, 3, 4, 5

# A block entry is (block_type, first_row, kind, payload): kind "raw" carries the cell grid as
# pdtable would see it; kind "table" carries parse_table_fast's result.
RAW, FAST_TABLE = "raw", "table"

# Copied from pdtable/io/parsers/blocks.py (_re_block_marker): the same pattern decides block starts.
_re_block_marker = re.compile(
    r"^("
    r"(?<!\*)(\*\*\*?)(?!\*)"
    r"|"
    r"((?<!:):{1,3}(?!:))[^:]*\s*$"
    r"|"
    r"([^:]+:)\s*$"
    r")"
)


def _is_cell_blank(cell):
    """pdtable's blank test: None, or a str of only whitespace."""
    return cell is None or (isinstance(cell, str) and not cell.strip())


def _block_entry(block_type, cell_grid, row, fast_datetime):
    """One block as it crosses to the main interpreter, or None for pdtable's skipped empty grids."""
    if not cell_grid:
        return None
    if block_type == TABLE:
        fast = parse_table_fast(cell_grid, fast_datetime)
        if fast is not None:
            return (block_type, row, FAST_TABLE, fast)
    return (block_type, row, RAW, cell_grid)


def split_blocks(cell_rows, fast_datetime):
    """Blocks of one sheet, in pdtable's order, as a list of block entries.

    The loop mirrors ``parse_blocks_stable``: the same state changes, the same rows kept in
    each grid (comment rows included), the same 0-based first row per block.
    """
    entries = []

    def emit(block_type, cell_grid, row):
        entry = _block_entry(block_type, cell_grid, row, fast_datetime)
        if entry is not None:
            entries.append(entry)

    cell_grid = []
    state = METADATA
    next_state = None
    this_block_1st_row = 0
    for row_number_0based, row in enumerate(cell_rows):
        if row is None or len(row) == 0 or _is_cell_blank(row[0]):
            if state != BLANK:
                next_state = BLANK
            else:
                continue
        elif isinstance(row[0], str):
            mm = _re_block_marker.match(row[0])
            if mm is None:
                cell_grid.append(row)
                continue
            if mm.group(1) is not None:
                if mm.group(1) == "**":
                    next_state = TABLE
                elif mm.group(1) == "***":
                    next_state = DIRECTIVE
                elif mm.group(4) is not None:
                    if state == METADATA:
                        cell_grid.append(row)
                        continue
                    next_state = BLANK
                else:
                    next_state = TEMPLATE_ROW
        else:
            cell_grid.append(row)
            continue

        if next_state is not None:
            emit(state, cell_grid, this_block_1st_row)
            cell_grid = []
            state = next_state
            next_state = None
            this_block_1st_row = row_number_0based
            if state != BLANK:
                cell_grid.append(row)
            elif len(row) > 0:
                if len(row) == 1 and _is_cell_blank(row[0]):
                    continue
                cell_grid.append(row)

    emit(state, cell_grid, this_block_1st_row)
    return entries
