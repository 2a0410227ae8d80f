"""Recognise an export file by its content, never by its name or folder."""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any, BinaryIO, TextIO

OPENAI_JSON = "openai_api_json"
#: saved Admin API lists of project API keys, of projects and of users (JSON too: told apart
#: from usage pages once parsed)
OPENAI_KEYS = "openai_api_keys_json"
OPENAI_PROJECTS = "openai_projects_json"
OPENAI_USERS = "openai_users_json"
DASHBOARD_CSV = "openai_dashboard_csv"
LITELLM_CSV = "litellm_spend_logs_csv"

LITELLM_REQUIRED = {"request_id", "call_type", "startTime"}
DASHBOARD_TIME = {"start_time", "start_time_iso"}
DASHBOARD_MEASURES = {"num_model_requests", "input_tokens", "amount_value"}
#: the daily roll-up tables of a LiteLLM proxy (formats.md 5.6), recognised to say what to
#: export instead
LITELLM_DAILY_ROLLUP = frozenset({"date", "api_requests", "prompt_tokens", "completion_tokens",
                                  "spend"})


#: single-stream compressions read as the export they hold, by their magic bytes
COMPRESSIONS = {b"\x1f\x8b": "gzip", b"BZh": "bz2", b"\xfd7zXZ\x00": "xz"}
#: containers and compressions that are not read, and what to do instead
UNREAD_CONTAINERS = {
    b"PK\x03\x04": "a zip archive: extract its files into the landing folder",
    b"\x28\xb5\x2f\xfd": "zstd-compressed: decompress it, or compress it with gzip, bz2 or "
                         "xz, which are read as they are",
}


#: byte order marks of the UTF-16 text a spreadsheet saves as "Unicode text"
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
#: what a spreadsheet on Windows saves "CSV (Comma delimited)" in (Python's name for
#: Windows-1252): a dashboard sheet that is not UTF-8 is read in it. Its only free text is
#: the organisation's name; ids, models and numbers are ASCII, the same in either.
SHEET_ENCODING = "cp1252"


def decode_sheet(data: bytes) -> tuple[str, str]:
    """The text of a file a spreadsheet may have saved (a dashboard sheet, the team directory,
    an override file) and its encoding: UTF-16 after its byte order mark ("Unicode text"),
    UTF-8 (a byte order mark dropped), else Windows-1252. A ValueError naming both offending
    bytes when it is neither (one of the five bytes Windows-1252 leaves undefined)."""
    if data.startswith(UTF16_BOMS):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as exc:
            raise ValueError(f"not UTF-16 text after its byte order mark ({exc.reason})"
                             ) from exc
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError as not_utf8:
        body = data.removeprefix(codecs.BOM_UTF8)
        try:
            return body.decode(SHEET_ENCODING), SHEET_ENCODING
        except UnicodeDecodeError as neither:
            at = neither.start + len(data) - len(body)
            raise ValueError(
                f"neither UTF-8 text (byte {not_utf8.start}: {not_utf8.reason}) nor "
                f"Windows-1252 (byte {at} is undefined there): save it as CSV UTF-8"
            ) from neither


def text_repairs(head: bytes) -> tuple[str, ...]:
    """What a plain file (``head``: its first bytes) needs before it is read as UTF-8 text
    with ordinary line ends: ``utf-16`` for a UTF-16 file with its byte order mark (Excel's
    "Unicode text"), ``cr-cr-lf`` when its first line ends in ``\\r\\r\\n`` (a CRLF file whose
    line ends were converted once more, as Python's ``csv`` writer does on Windows to a file
    opened without ``newline=''``; DuckDB's CSV reader would start every row's first value,
    the request id, with a line feed). Empty when it needs nothing."""
    repairs: list[str] = []
    if head.startswith(UTF16_BOMS):
        repairs.append("utf-16")
        head = head.decode("utf-16", errors="replace").encode("utf-8")
    end = head.find(b"\n")
    if end >= 2 and head[end - 2:end] == b"\r\r":
        repairs.append("cr-cr-lf")
    return tuple(repairs)


def repair_text(source: Path, target: Path, repairs: tuple[str, ...],
                chunk_bytes: int = 1 << 20) -> None:
    """Write ``source`` to ``target`` as UTF-8 with ``repairs`` (:func:`text_repairs`) made,
    a chunk at a time: a UTF-16 file decoded (``UnicodeDecodeError`` if it is not UTF-16),
    every ``\\r\\r\\n`` made ``\\r\\n``. Other bytes are copied as they are. Carriage
    returns at the end of a chunk wait for the next one, so a line end split between two
    chunks is repaired like the others."""
    collapse = "cr-cr-lf" in repairs
    with source.open("rb") as raw, target.open("wb") as out:
        if "utf-16" in repairs:
            with io.TextIOWrapper(raw, encoding="utf-16", newline="") as text:
                chunks = (c.encode("utf-8") for c in iter(lambda: text.read(chunk_bytes), ""))
                _copy_chunks(chunks, out, collapse)
        else:
            _copy_chunks(iter(lambda: raw.read(chunk_bytes), b""), out, collapse)


def _copy_chunks(chunks: Iterable[bytes], out: BinaryIO, collapse: bool) -> None:
    carry = b""
    for chunk in chunks:
        data = carry + chunk
        if collapse:
            kept = data.rstrip(b"\r")
            data, carry = kept.replace(b"\r\r\n", b"\r\n"), data[len(kept):]
        out.write(data)
    out.write(carry)


class UnrecognisedFile(ValueError):
    """The file is not one of the four supported export formats; the message says why."""


def compression_of(head: bytes) -> str | None:
    """``gzip``, ``bz2`` or ``xz`` when ``head`` (a file's first bytes) starts that stream."""
    return next((name for magic, name in COMPRESSIONS.items() if head.startswith(magic)), None)


def separator_of(first_line: str) -> str:
    """The field separator of a CSV header line: a comma, unless the line has none and has
    tabs (a sheet pasted into a file, as the one real dashboard export found was) or
    semicolons (a spreadsheet saved in a locale that writes decimal commas)."""
    if "," not in first_line:
        for sep in ("\t", ";"):
            if sep in first_line:
                return sep
    return ","


def first_line(path: Path) -> str:
    """The header line as text: UTF-8 (a byte order mark dropped), else Windows-1252 (the
    header names are ASCII either way; only the line is decoded, so a byte further on that is
    not UTF-8 is the reader's to judge)."""
    with path.open("rb") as fh:
        line = fh.readline(1 << 20)
    try:
        return line.decode("utf-8-sig")
    except UnicodeDecodeError:
        return line.decode(SHEET_ENCODING, errors="replace")


def read_header(path: Path) -> list[str]:
    first = first_line(path)
    row = next(csv.reader(io.StringIO(first), delimiter=separator_of(first)), [])
    return [c.strip() for c in row]


#: how much of a CSV export's start :func:`check_row_widths` reads
WIDTH_SAMPLE_BYTES = 1 << 16


class RaggedRows(ValueError):
    """The rows have more (or, every one, fewer) fields than the header names: the columns
    would be read shifted."""

    def __init__(self, line: int, fields: int, names: int) -> None:
        why = ("a header name is missing (or a value holds an unquoted separator), so the "
               "values after it would be read into the wrong columns" if fields > names else
               "the header has a name too many (or the rows are cut short), so the header's "
               "names past the gap would name the wrong values")
        super().__init__(
            f"line {line} has {fields} fields where the header names {names}: {why}. Nothing "
            "of the file is loaded: export it again with its whole header, or correct the line")


class StrayQuote(ValueError):
    """A CSV line whose double quotes are not written the way CSV quotes a value: the rows
    from there on cannot be split."""

    def __init__(self, line: int, what: str) -> None:
        super().__init__(
            f"line {line} has {what}, so the rows from there on cannot be split into their "
            "values. Nothing of the file is loaded: remove the quote, or quote the whole value "
            "and double each quote inside it")


#: the longest line DuckDB's CSV reader takes (its ``max_line_size``): no value of a file it
#: read is longer, so Python's reader may take as long a one (its default limit is 128 KiB)
MAX_LINE_BYTES = 2_000_000
csv.field_size_limit(max(csv.field_size_limit(), MAX_LINE_BYTES))


def quote_problem(text: str, breaks_in_values: bool = False, whole: bool = True
                  ) -> tuple[int, str] | None:
    """Where CSV ``text``'s quotes go wrong, and how: its first line with an odd number of
    double quotes (a stray one, or a quoted value that does not close on its line), unless
    its values may hold line breaks (``breaks_in_values``: a spend log's prompts); else
    :func:`strict_quote_problem`'s answer. ``whole=False``: ``text`` is only the file's
    start, where a quoted value may run on past the end."""
    if not breaks_in_values:
        for number, line in enumerate(text.split("\n"), start=1):
            if line.count('"') % 2:
                return number, ("a '\"' that does not pair up (a stray quote, or a quoted "
                                "value that does not close on its line)")
    return strict_quote_problem(io.StringIO(text), separator_of(text.split("\n", 1)[0]),
                                whole)


def strict_quote_problem(stream: TextIO, separator: str = ",", whole: bool = True
                         ) -> tuple[int, str] | None:
    """The line where Python's strict CSV reader finds a '"' where CSV allows none in
    ``stream`` (text after a closing quote; a quoted value that runs on to the end, or past
    ``MAX_LINE_BYTES``), read a row at a time, and what it found; None when it finds none
    (and, unless ``whole``, for a quoted value running on past the end)."""
    lines = csv.reader(stream, delimiter=separator, strict=True)
    start = 1  # the line the row being read starts on
    try:
        for _ in lines:
            start = lines.line_num + 1
    except csv.Error as exc:
        if "unexpected end of data" in str(exc):
            return (start, "a quoted value that does not close (a stray '\"'?)") if whole \
                else None
        if "field larger than field limit" in str(exc):
            return start, (f"a quoted value that runs on past {MAX_LINE_BYTES:,} characters "
                           "(a stray '\"'?)")
        return lines.line_num, f"a '\"' where CSV allows none ({exc})"
    return None


def _after_header(text: str, quotes: bool = True) -> tuple[int, Any]:
    """The number of names in the header of CSV ``text``, and a reader over its rows after
    it (its ``line_num``: the line a row ends on); ``quotes=False``: a '"' is a character
    like any other."""
    lines = csv.reader(io.StringIO(text), delimiter=separator_of(text.split("\n", 1)[0]),
                       quoting=csv.QUOTE_MINIMAL if quotes else csv.QUOTE_NONE)
    return len(next(lines, [])), lines


def field_counts(text: str, quotes: bool = True) -> tuple[int, list[int]] | None:
    """The number of names in the header of CSV ``text`` and the number of fields of each
    row after it, in order (a blank line: 0); None when Python's reader cannot split it (a
    field over its size limit), which a caller takes as "not known". ``quotes=False``: a
    '"' is a character like any other."""
    names, lines = _after_header(text, quotes)
    try:
        return names, [len(row) for row in lines]
    except csv.Error:
        return None


def wider_row(text: str, quotes: bool = True) -> tuple[int, int, int] | None:
    """The first row of CSV ``text`` (its header first) that has more fields than the header
    names: (its line number, its fields, the header's names); None when there is none. A
    shorter row is not one: the readers pad it (a spend log's is quarantined,
    ``litellm_csv.SHORT``; a dashboard sheet's is what a spreadsheet saves when a row's last
    cells are empty, unless it is the file's last and no line end follows it).
    ``quotes=False``: a '"' is a character like any other."""
    names, lines = _after_header(text, quotes)
    for row in lines:
        if len(row) > names:
            return lines.line_num, len(row), names
    return None


def check_row_widths(path: Path) -> None:
    """Raise :class:`RaggedRows` when every row in the first ``WIDTH_SAMPLE_BYTES`` of the
    CSV export at ``path`` has more fields than its header names, or every one fewer. A
    header that lost a name (an edit, a damaged export) makes every row one field longer,
    and a reader that pads short rows would read each value after the gap into its
    neighbour's column: a gateway log's metadata as its cache flag, its status from another
    field, every team unassigned. A header with a name too many makes every row short.
    Such a file is refused whole; a lone long or short row is the reader's to quarantine
    (``litellm_csv.SURPLUS``, ``litellm_csv.SHORT``)."""
    with path.open("rb") as fh:
        head = fh.read(WIDTH_SAMPLE_BYTES)
        cut = len(fh.read(1)) == 1
    text = head.decode("utf-8-sig", errors="replace")
    if cut:  # the last line may be cut short: only whole lines
        text = text[: text.rfind("\n") + 1]
    names, lines = _after_header(text)
    first: tuple[int, int, int] | None = None
    for row in lines:
        if not row:
            continue  # a blank line
        if len(row) == names or (first is not None and (len(row) > names) != (first[1] > names)):
            return  # a row as wide as the header, or both wider and shorter ones
        first = first or (lines.line_num, len(row), names)
    if first is not None:
        raise RaggedRows(*first)


_CSV_ERROR_LINE = re.compile(r"CSV Error on Line: (\d+)")


def csv_error_text(error: str) -> str | None:
    """DuckDB's CSV reader error as a short reason: its line number and what is wrong there,
    without the line itself (a spend log's line holds prompts, responses and request
    headers) or the reader's options and advice that follow; None for any other error. The
    reason is the last line before the advice (the quoted line may span several)."""
    found = _CSV_ERROR_LINE.search(error)
    if found is None:
        return None
    head = re.split(r"\n\s*Possible (?:Solution|fixes)", error, maxsplit=1)[0]
    lines = [line.strip() for line in head.split("\n") if line.strip()]
    why = lines[-1] if len(lines) > 2 else ""
    if "Maximum line size" in why:  # a quote opened there runs on through the lines after
        why += (" A quoted value that does not close (a stray '\"' on that line?) takes in "
                "the lines after it.")
    return f"CSV error on line {found.group(1)}" + (f": {why}" if why else "")


def _looks_like_utf16(head: bytes) -> bool:
    """ASCII text in UTF-16: every other byte is NUL, and the others are not."""
    for nuls, chars in ((head[0::2], head[1::2]), (head[1::2], head[0::2])):
        if len(nuls) >= 8 and nuls.count(0) >= 0.9 * len(nuls) and chars.count(0) == 0:
            return True
    return False


def detect_format(path: Path) -> str:
    with path.open("rb") as fh:
        head = fh.read(4096)
    if not head.strip():
        raise UnrecognisedFile("empty file")
    for magic, advice in UNREAD_CONTAINERS.items():
        if head.startswith(magic):
            raise UnrecognisedFile(advice)
    if (compression := compression_of(head)) is not None:
        raise UnrecognisedFile(f"{compression}-compressed: decompress it first")
    if b"\x00" in head:
        if _looks_like_utf16(head):
            raise UnrecognisedFile("UTF-16 text without a byte order mark: save it as UTF-8 "
                                   "(or as UTF-16 with one, as spreadsheets do)")
        raise UnrecognisedFile("binary content (NUL bytes), not a usage export")
    not_utf8: UnrecognisedFile | None = None
    try:
        text = head.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        # a multi-byte character cut at the 4 KiB boundary is fine; anything else is not
        # UTF-8, which only a dashboard sheet may be (read as Windows-1252)
        if exc.start < len(head) - 4:
            not_utf8 = UnrecognisedFile(f"not UTF-8 text (byte {exc.start}: {exc.reason})")
            text = head.decode(SHEET_ENCODING, errors="replace")
        else:
            text = head[: exc.start].decode("utf-8-sig")
    stripped = text.lstrip()
    if stripped[:1] in "{[":
        if not_utf8 is not None:
            raise not_utf8
        return OPENAI_JSON
    header = set(read_header(path))
    if not_utf8 is not None and not (header & DASHBOARD_TIME and header & DASHBOARD_MEASURES):
        raise not_utf8
    if header >= LITELLM_REQUIRED:
        if separator_of(first_line(path)) != ",":
            raise UnrecognisedFile("a LiteLLM spend-log export that is not comma-separated: "
                                   "export LiteLLM_SpendLogs as CSV")
        return LITELLM_CSV
    if header & DASHBOARD_TIME and header & DASHBOARD_MEASURES:
        return DASHBOARD_CSV
    if header >= LITELLM_DAILY_ROLLUP:
        raise UnrecognisedFile(
            "a LiteLLM daily spend roll-up (LiteLLM_DailyTeamSpend or a sibling: one row per "
            "day and team, key or tag, no request ids): not read, since it cannot be told "
            "apart from the same requests in spend logs; export LiteLLM_SpendLogs (one row "
            "per request) instead")
    raise UnrecognisedFile(
        "unrecognised CSV header: expected an OpenAI dashboard export (start_time, "
        "num_model_requests/input_tokens/amount_value) or a LiteLLM spend-log export "
        f"(request_id, call_type, startTime); got {sorted(header)[:12]}"
    )
