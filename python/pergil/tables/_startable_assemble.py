"""Main-interpreter side of load_startables: block entries from a worker into pdtable blocks.

For each sheet this replays pdtable 1.0.1's ``parse_blocks_stable.block_output`` (one fixer per
sheet, reset before each block, handler errors to the issue tracker), calling pdtable's own block
handlers on raw cell grids and building tables parsed in the worker as pdtable's ``_make_table``
does, from numpy arrays over the worker's buffers (no Python object per numeric cell).
"""

import pickle

import numpy as np
import pandas as pd
from pdtable import Table, frame
from pdtable.io.parsers import blocks as pdtable_blocks
from pdtable.io.parsers.fixer import ParseFixer
from pdtable.store import BlockType
from pdtable.table_metadata import TableMetadata
from pdtable.table_origin import TableOrigin

from pergil.tables._startable_blocks import FAST_TABLE

_BLOCK_TYPES = {bt.value: bt for bt in BlockType}


class CompatFixer(ParseFixer):
    """pdtable's default ParseFixer, with the defaults it means under numpy 2.

    pdtable 1.0.1's fix_illegal_cell_value builds its defaults with ``np.NaN``, which numpy 2
    removed, so every illegal cell raised AttributeError there. This override is that method
    with ``np.nan``: the same message, counters and return values as under numpy 1.
    """

    def fix_illegal_cell_value(self, vtype, value):
        defaults = {"onoff": False, "datetime": pd.NaT, "float": np.nan, "-": np.nan}
        msg = f"Illegal value '{value}' for unit '{vtype} ' in table '{self.table_name}'."
        self.messages.append(msg)
        if self.verbose:
            print(msg)
        default_val = defaults.get(vtype)
        self._warnings += 1
        if default_val is not None:
            return default_val
        return defaults["-"]


def make_sheet_fixer(location_sheet):
    """The fixer pdtable's parse_blocks_stable makes for one sheet (make_fixer, default class)."""
    fixer = CompatFixer() if not hasattr(np, "NaN") else ParseFixer()
    fixer.origin = location_sheet.file.load_identifier
    return fixer


def _column_array(kind, payload):
    if kind == "f":
        return np.frombuffer(payload, dtype=np.float64)
    if kind == "M":
        return np.frombuffer(payload, dtype="datetime64[ns]")
    if kind == "b":
        return np.frombuffer(payload, dtype=np.bool_)
    width, data = payload  # what np.array(cells, dtype=str) holds, built in the worker
    return np.frombuffer(data, dtype=f"<U{width}")


def make_fast_table(parsed, origin, fixer):
    """pdtable's _make_table for a table whose columns the worker already parsed."""
    table_name, destinations, names, units, columns = parsed
    fixer.table_name = table_name
    data = {}
    for name, (kind, payload) in zip(names, columns):
        fixer.column_name = name
        data[name] = _column_array(kind, payload)
    fixer.report()
    return Table(
        frame.make_table_dataframe(
            pd.DataFrame(data),
            units=units,
            table_metadata=TableMetadata(
                name=table_name,
                destinations=set(destinations),
                origin=origin,
                transposed=False,
                strict_types=fixer.strict_types,
            ),
        )
    )


def _handler(block_type):
    """pdtable's handler for a block type as parse_blocks (the facade read_csv/read_excel use)
    sets them up: its defaults, raw cells for the other types."""
    return dict(pdtable_blocks.DEFAULT_HANDLERS).get(block_type, pdtable_blocks.make_raw_cells)


def sheet_blocks(packed_entries, location_sheet, issue_tracker):
    """Yield (BlockType, block) for one sheet's entries, as parse_blocks_stable yields them.

    ``packed_entries``: a list of one pickle stream per block entry (read_startable_file_packed),
    emptied as it goes: one entry is unpacked at a time, and its buffers are freed once its
    frame holds a copy, not when the whole file is done (peak memory, issue 12).
    """
    fixer = make_sheet_fixer(location_sheet)
    packed_entries.reverse()
    while packed_entries:
        type_value, row, kind, payload = pickle.loads(packed_entries.pop())
        block_type = _BLOCK_TYPES[type_value]
        yield from _block_output(block_type, kind, payload, row, location_sheet, fixer, issue_tracker)


def _block_output(block_type, kind, payload, row, location_sheet, fixer, issue_tracker):
    # Written as pdtable's block_output: when the handler raises ValueError and the tracker
    # does not raise, ``block`` is unbound below and pdtable raises UnboundLocalError; so do we.
    origin = TableOrigin(input_location=location_sheet.make_location_block(row=row))
    fixer.reset_fixes()
    try:
        if kind == FAST_TABLE:
            block = make_fast_table(payload, origin, fixer)
        else:
            block = _handler(block_type)(payload, origin=origin, fixer=fixer)
    except ValueError as e:
        issue_tracker.add_error(str(e), load_location=origin.input_location)

    if block is not None:
        yield block_type, block
