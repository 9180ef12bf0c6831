"""
The CSV files spreadsheets write: their delimiter and their encoding.

Excel saves "CSV" with ``;`` in most of Europe (where ``,`` is the decimal
separator), in the Windows code page unless told "CSV UTF-8", and "Unicode
text" as tab-separated UTF-16. A client gives ``?delimiter=`` and
``?encoding=`` (or the form fields of the same names); otherwise the
delimiter is detected from the header line and the encoding is UTF-8, or
whatever a byte order mark says. A file that still does not read gets one
message naming the likely cause and the parameter that fixes it.
"""

import codecs
import io
from dataclasses import dataclass

from django.utils.translation import gettext as _, gettext_lazy
from rest_framework import serializers

# The encodings a client may name, by the name we report, with the codec
# each is read with (UTF-8 drops a byte order mark if there is one).
ENCODINGS = {
    "utf-8": "utf-8-sig",
    "utf-8-sig": "utf-8-sig",
    "utf-16": "utf-16",
    "latin-1": "latin-1",
    "cp1252": "cp1252",
}
DEFAULT_ENCODING = "utf-8"
# Delimiters, in the order a tie is broken, with the word for messages.
DELIMITERS = {
    ",": gettext_lazy("comma"),
    ";": gettext_lazy("semicolon"),
    "\t": gettext_lazy("tab"),
    "|": gettext_lazy("pipe"),
}
# What a client may write for a delimiter besides the character itself.
DELIMITER_NAMES = {"comma": ",", "semicolon": ";", "tab": "\t", "\\t": "\t", "pipe": "|"}
# How much of the first line the delimiter is guessed from.
HEADER_SAMPLE = 64 * 1024
BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def read_encoding(value):
    """The ``ENCODINGS`` name for a client's ``encoding`` (any spelling
    Python knows: ``UTF8``, ``iso-8859-1``, ``windows-1252``), ``None`` when
    absent; any other value is a 400 naming it."""
    if value is None or value == "":
        return None
    try:
        codec = codecs.lookup(value.strip()).name
    except LookupError:
        codec = None
    for name in ENCODINGS:
        if codecs.lookup(name).name == codec:
            return name
    raise serializers.ValidationError(
        {
            "encoding": [
                _("Unknown encoding '{value}': use one of {choices}.").format(value=value, choices=", ".join(ENCODINGS))
            ]
        }
    )


def read_delimiter(value):
    """The delimiter character for a client's ``delimiter`` (the character,
    or ``comma``, ``semicolon``, ``tab``, ``pipe``), ``None`` when absent;
    anything else is a 400 naming it."""
    if value is None or value == "":
        return None
    if value in DELIMITERS:
        return value
    character = DELIMITER_NAMES.get(value.strip().lower())
    if character is None:
        raise serializers.ValidationError(
            {"delimiter": [_("Unknown delimiter '{value}': use one of , ; | or tab.").format(value=value)]}
        )
    return character


def delimiter_parameter(delimiter):
    """How a client sends ``delimiter`` in a query string."""
    return "%09" if delimiter == "\t" else delimiter


@dataclass(frozen=True)
class CsvDialect:
    """How a CSV file is read: ``delimiter``, ``encoding`` (an
    ``ENCODINGS`` name), whether each was given by the client, and the
    delimiter the header line looks separated by (``looks``; ``None`` when
    the line holds none of ``DELIMITERS``)."""

    delimiter: str = ","
    encoding: str = DEFAULT_ENCODING
    delimiter_given: bool = False
    encoding_given: bool = False
    looks: str | None = None

    def misread_as(self):
        """The delimiter the file looks separated by when it was read with
        another one, else ``None``."""
        if self.looks is not None and self.looks != self.delimiter:
            return self.looks
        return None

    def misread_message(self):
        looks = self.misread_as()
        return _(
            "The file looks {name}-separated but was read as {used}-separated: send "
            "?delimiter={parameter} (or leave delimiter out to detect it from the header line)."
        ).format(name=DELIMITERS[looks], used=DELIMITERS[self.delimiter], parameter=delimiter_parameter(looks))


def detect_dialect(file, *, delimiter=None, encoding=None):
    """The ``CsvDialect`` of a binary file: what the client gave, else a
    byte order mark's encoding (UTF-8 without one) and the delimiter found
    most often outside quotes in the first non-blank line (``,`` for a
    single column). Reads only the start of the file."""
    file.seek(0)
    start = file.read(4)
    file.seek(0)
    detected_encoding = DEFAULT_ENCODING
    for bom, name in BOMS:
        if start.startswith(bom):
            detected_encoding = name
            break
    used_encoding = encoding or detected_encoding
    looks = sniff_delimiter(header_line(file, used_encoding))
    return CsvDialect(
        delimiter=delimiter or looks or ",",
        encoding=used_encoding,
        delimiter_given=delimiter is not None,
        encoding_given=encoding is not None,
        looks=looks,
    )


def header_line(file, encoding):
    """The first non-blank line of the file (at most ``HEADER_SAMPLE``
    characters), or ``""`` when it cannot be decoded."""
    file.seek(0)
    text = io.TextIOWrapper(file, encoding=ENCODINGS[encoding], newline="")
    try:
        while True:
            line = text.readline(HEADER_SAMPLE)
            if not line or line.strip():
                return line
    except UnicodeError:  # UTF-16 without a byte order mark is not even a decode error
        return ""  # the structure pass reports it, with its line
    finally:
        text.detach()
        file.seek(0)


def sniff_delimiter(line):
    """The ``DELIMITERS`` character found most often outside double quotes
    in ``line`` (ties: the earlier in ``DELIMITERS``), or ``None``."""
    counts = dict.fromkeys(DELIMITERS, 0)
    quoted = False
    for character in line:
        if character == '"':
            quoted = not quoted
        elif not quoted and character in counts:
            counts[character] += 1
    best = max(counts, key=counts.get)
    return best if counts[best] else None


def undecodable_message(file, dialect):
    """The one message for a file that is not in ``dialect.encoding``,
    naming the line of the first bad byte and the parameter to send."""
    line = first_undecodable_line(file, dialect.encoding)
    where = _("line {line}").format(line=line) if line else _("near the start")
    if dialect.encoding == DEFAULT_ENCODING and not dialect.encoding_given:
        return _(
            "The file is not UTF-8 text ({where}): it is probably Latin-1 or Windows-1252, as Excel saves "
            '"CSV (Comma delimited)". Send ?encoding=cp1252 (or ?encoding=latin-1), or save it as "CSV UTF-8".'
        ).format(where=where)
    return _(
        "The file is not {encoding} text ({where}): send the ?encoding= it was saved in (one of {choices})."
    ).format(encoding=dialect.encoding, where=where, choices=", ".join(ENCODINGS))


def first_undecodable_line(file, encoding):
    """The 1-based line holding the first byte ``encoding`` cannot decode,
    found by decoding line by line (only when the stream failed, so the
    usual file pays nothing); ``None`` for an encoding whose lines are not
    split on the byte ``\\n`` (UTF-16)."""
    if encoding == "utf-16":
        return None
    decoder = codecs.getincrementaldecoder(ENCODINGS[encoding])()
    file.seek(0)
    try:
        for number, raw in enumerate(file, start=1):
            try:
                decoder.decode(raw)
            except UnicodeError:
                return number
        return None
    finally:
        file.seek(0)
