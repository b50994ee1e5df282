"""pergil.tables: table files into pandas DataFrames on all cores (imports pandas on use)."""

from pergil.tables._columns import frame_from_columns
from pergil.tables._read_many import ReadError, read_many

__all__ = ["ReadError", "frame_from_columns", "read_many"]
