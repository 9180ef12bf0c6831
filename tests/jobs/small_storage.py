"""A file system storage with a small capacity, for the storage-fault tests.

``SmallStorage`` is Django's ``FileSystemStorage`` writing real files under
its ``location``; once the bytes under it reach ``capacity``, the write that
would pass it stores what still fits and then fails with
``OSError(ENOSPC)``, where a full disk fails: inside the storage's own write
loop, after part of the file is on disk. It also notes every name it is
asked to delete (``deletions``), so a test can tell a file removed twice.

Configure it through ``STORAGES`` and ``BULK_JOB_STORAGE``::

    settings.STORAGES = {**settings.STORAGES, "small": {
        "BACKEND": "tests.jobs.small_storage.SmallStorage",
        "OPTIONS": {"location": str(tmp_path), "capacity": 100}}}
"""

import errno
import os

from django.core.files import File
from django.core.files.storage import FileSystemStorage

# Names passed to ``delete``, by every SmallStorage of the process.
deletions = []


class _Capped(File):
    """``content`` whose chunks stop after ``room`` bytes with ENOSPC."""

    def __init__(self, content, room):
        super().__init__(content, name=content.name)
        self.content, self.room = content, room

    def chunks(self, chunk_size=None):
        room = self.room
        for chunk in self.content.chunks(chunk_size):
            if len(chunk) > room:
                if room:
                    yield chunk[:room]
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            room -= len(chunk)
            yield chunk


class SmallStorage(FileSystemStorage):
    def __init__(self, capacity=0, **kwargs):
        super().__init__(**kwargs)
        self.capacity = capacity

    def used(self):
        total = 0
        for directory, _dirs, files in os.walk(self.location):
            total += sum(os.path.getsize(os.path.join(directory, name)) for name in files)
        return total

    def _save(self, name, content):
        room = max(0, self.capacity - self.used())
        return super()._save(name, _Capped(content, room))

    def delete(self, name):
        deletions.append(name)
        super().delete(name)

    def files(self):
        """Every file under the storage, with its size: ``{relative name: bytes}``."""
        found = {}
        for directory, _dirs, names in os.walk(self.location):
            for filename in names:
                path = os.path.join(directory, filename)
                found[os.path.relpath(path, self.location)] = os.path.getsize(path)
        return found
