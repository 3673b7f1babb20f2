"""CSV that a spreadsheet opens as data, never as formulas (CSV injection).

A text cell starting with =, +, -, @, a tab or a carriage return is run as a formula by Excel,
LibreOffice and Google Sheets (`=HYPERLINK(...)` in a worker's comment). Such cells get a leading
single quote. Numbers stay numbers: only strings are touched, and a string that is a plain decimal
number ("-0.5", "+3", "-1e-3") cannot be a formula, so it is left as it is. Every CSV the service
writes goes through csv_writer or csv_dict_writer.
"""

import csv
import re

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def csv_cell(value):
    """The value as a spreadsheet will read it as data."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


class _SafeWriter:
    def __init__(self, writer):
        self._writer = writer

    def writerow(self, row):
        return self._writer.writerow([csv_cell(v) for v in row])

    def writerows(self, rows):
        for row in rows:
            self.writerow(row)


def csv_writer(out, **kwargs) -> _SafeWriter:
    """csv.writer whose text cells are neutralised."""
    return _SafeWriter(csv.writer(out, **kwargs))


class _SafeDictWriter(csv.DictWriter):
    def _dict_to_list(self, rowdict):
        return [csv_cell(v) for v in super()._dict_to_list(rowdict)]


def csv_dict_writer(out, fieldnames, **kwargs) -> csv.DictWriter:
    """csv.DictWriter whose text cells are neutralised (the header is ours, and written as is)."""
    return _SafeDictWriter(out, fieldnames=fieldnames, **kwargs)
