"""Kobo's JSON export (the data endpoint's `{"count", "next", "results": [...]}`, or a bare
list), read record by record without loading the file, and the error every export reader raises.

Split out of exports.py: the streaming JSON decoder is a job of its own.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, TextIO

__all__ = ["ExportError", "iter_json_records", "read_json_file"]

_CHUNK = 1 << 16


@dataclass
class ExportError(ValueError):
    """A malformed export, raised by every reader (JSON, XLSX, CSV): names file, row and column."""

    file: str
    row: int | None
    column: str | None
    reason: str

    def __str__(self) -> str:
        where = [self.file]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column '{self.column}'")
        return f"{', '.join(where)}: {self.reason}"


def read_json_file(path: Path) -> Iterator[dict]:
    with path.open("r", encoding="utf-8-sig") as handle:
        yield from iter_json_records(handle, name=path.name)


def iter_json_records(stream: TextIO, *, name: str = "<json>", chunk_size: int = _CHUNK) -> Iterator[dict]:
    """Records of `{"count":…, "results":[…]}` or of a bare list, read chunk by chunk.

    Memory stays at one chunk plus one record, whatever the file size.
    """
    reader = _JsonChunks(stream, name, chunk_size)
    first = reader.next_char()
    if first == "[":
        reader.pos += 1
        yield from _array_items(reader)
        return
    if first != "{":
        raise ExportError(name, None, None, "expected a JSON object with 'results' or a JSON list")
    reader.pos += 1
    while True:
        char = reader.next_char()
        if char == "}":
            raise ExportError(name, None, None, "no 'results' list in the JSON object")
        if char == ",":
            reader.pos += 1
            continue
        key = reader.decode_value()
        if reader.next_char() != ":":
            raise ExportError(name, None, None, f"malformed JSON after key {key!r}")
        reader.pos += 1
        if key == "results":
            if reader.next_char() != "[":
                raise ExportError(name, None, None, "'results' is not a list")
            reader.pos += 1
            yield from _array_items(reader)
            return
        reader.decode_value()  # count / next / previous: small, skipped


def _array_items(reader: "_JsonChunks") -> Iterator[dict]:
    number = 0
    while True:
        char = reader.next_char()
        if char == "]":
            return
        if char == ",":
            reader.pos += 1
            continue
        number += 1
        item = reader.decode_value(record=number)
        if not isinstance(item, dict):
            raise ExportError(reader.name, number, None, "a record is not a JSON object")
        yield item


class _JsonChunks:
    """A sliding text window over the stream, decoding one JSON value at a time."""

    def __init__(self, stream: TextIO, name: str, chunk_size: int):
        self.stream, self.name, self.chunk_size = stream, name, chunk_size
        self.buffer, self.pos, self.eof = "", 0, False
        self.decoder = json.JSONDecoder()

    def _fill(self) -> bool:
        if self.eof:
            return False
        chunk = self.stream.read(self.chunk_size)
        if not chunk:
            self.eof = True
            return False
        self.buffer = self.buffer[self.pos:] + chunk  # drop what was consumed
        self.pos = 0
        return True

    def next_char(self) -> str:
        while True:
            while self.pos < len(self.buffer) and self.buffer[self.pos] in " \t\r\n":
                self.pos += 1
            if self.pos < len(self.buffer):
                return self.buffer[self.pos]
            if not self._fill():
                raise ExportError(self.name, None, None, "the JSON ends early (truncated file?)")

    def decode_value(self, record: int | None = None) -> Any:
        self.next_char()
        while True:
            try:
                value, end = self.decoder.raw_decode(self.buffer, self.pos)
            except json.JSONDecodeError as exc:
                if self._fill():
                    continue
                raise ExportError(self.name, record, None, f"invalid JSON ({exc.msg})") from exc
            # A number touching the end of the window may continue in the next chunk.
            if end == len(self.buffer) and not self.eof and self._fill():
                continue
            self.pos = end
            return value
