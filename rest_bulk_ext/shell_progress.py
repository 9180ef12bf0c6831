"""
Progress of ``manage.py bulk_import`` and ``bulk_export`` on the command's
stderr: a bar on a terminal, plain lines otherwise (a log file, CI, a pipe).

The engine and the export writer report progress through the same callback
a background job uses (``progress(current, total, message)``); it goes
through the job's throttle, ``jobs.progress.ProgressRecorder``, whose store
here is a display instead of Redis. The bar is drawn by ``rich`` (the
``shell`` extra) when it is installed; without it a terminal gets the
plain lines too.
"""

from .jobs.progress import ProgressRecorder


class PlainLines:
    """``Processed 2000 of 5000 rows (40%)`` lines, one per throttled update."""

    def __init__(self, out, verb):
        self.out, self.verb = out, verb

    def write(self, task_id, values):
        current, total = values["current"], values["total"]
        if total:
            percent = 100.0 * current / total
            self.out.write(f"{self.verb} {current} of {total} rows ({percent:.0f}%)")
        else:
            self.out.write(f"{self.verb} {current} rows")

    def close(self):
        pass


class _Stream:
    """``rich``'s file: Django's ``OutputWrapper`` without its added newline
    and colour (the bar redraws its line with carriage returns)."""

    def __init__(self, out):
        self.out = out

    def write(self, text):
        self.out.write(text, style_func=lambda value: value, ending="")
        return len(text)

    def flush(self):
        self.out.flush()

    def isatty(self):
        return True

    def fileno(self):
        return self.out.fileno()


class RichBar:
    """A ``rich`` progress bar: counts, percentage, elapsed and remaining time."""

    def __init__(self, out, verb, total=None):
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TaskProgressColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        console = Console(file=_Stream(out), force_terminal=True)
        self.progress = Progress(
            TextColumn(verb),
            BarColumn(),
            MofNCompleteColumn(),
            TaskProgressColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console,
            auto_refresh=False,  # redrawn on each update: no thread
        )
        self.task = self.progress.add_task(verb, total=total or None)
        self.progress.start()

    def write(self, task_id, values):
        self.progress.update(self.task, completed=values["current"], total=values["total"] or None)
        self.progress.refresh()

    def close(self):
        self.progress.stop()


def rich_available():
    try:
        import rich.progress  # noqa: F401
    except ImportError:
        return False
    return True


class ShellProgress:
    """The ``progress(current, total=None, message="")`` callback of one
    command run, throttled like a job's, drawn on ``out`` (an
    ``OutputWrapper``). ``start(total)`` once the total is known; ``finish()``
    draws the last numbers and leaves the line."""

    def __init__(self, out, verb="Processed", interactive=None):
        self.out, self.verb = out, verb
        self.interactive = out.isatty() if interactive is None else interactive
        self.display = None
        self.recorder = None
        self.current = 0

    def start(self, total):
        if self.display is None:
            if self.interactive and rich_available():
                self.display = RichBar(self.out, self.verb, total)
            else:
                self.display = PlainLines(self.out, self.verb)
        self.recorder = ProgressRecorder("shell", total, store=self.display)

    def __call__(self, current, total=None, message=""):
        if self.recorder is None:
            self.start(total or 0)
        self.current = current
        self.recorder.set_progress(current, total or None, message)

    def finish(self):
        if self.recorder is None:
            return
        if self.recorder.last_current != self.current:
            self.recorder.set_progress(self.current, None, "", force=True)
        self.display.close()
