"""
A ``multipart/form-data`` body streamed from an open file.

The admin import and ``manage.py bulk_import`` send an upload through a
viewset as a real request; this builds the body a client would send, reading
the file as the body is read (never whole), so a large upload costs the
same memory as from the network.
"""

import io
import uuid

CHUNK_SIZE = 64 * 1024


class ChainedReader(io.RawIOBase):
    """Reads several binary files one after the other, as one stream."""

    def __init__(self, parts):
        self.parts = list(parts)

    def readable(self):
        return True

    def readinto(self, buffer):
        while self.parts:
            data = self.parts[0].read(len(buffer))
            if data:
                buffer[: len(data)] = data
                return len(data)
            self.parts.pop(0)
        return 0


def part_filename(name):
    # The name goes into a header of the body we write: no quote, backslash
    # or line break may end it early or start another header.
    cleaned = "".join(char for char in name if char not in '"\\\r\n')
    return cleaned or "upload.csv"


def multipart_body(file, size, filename, fields=()):
    """``(content_type, length, stream)`` of a body with the ``fields``
    (name, value pairs) and the open binary ``file`` of ``size`` bytes, read
    from its current position, as the ``file`` part."""
    boundary = f"rest-bulk-ext-{uuid.uuid4().hex}"
    head = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields
    )
    head += (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{part_filename(filename)}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    stream = io.BufferedReader(ChainedReader([io.BytesIO(head), file, io.BytesIO(tail)]), CHUNK_SIZE)
    return f"multipart/form-data; boundary={boundary}", len(head) + size + len(tail), stream
