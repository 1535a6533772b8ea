"""Keras 3's progress bar, written to ``sys.stdout``.

verbose=1, one live line per epoch, redrawn at most every ``interval`` seconds::

    1875/1875 ━━━━━━━━━━━━━━━━━━━━ 12s 6ms/step - accuracy: 0.9500 - loss: 0.1700

verbose=2, one line when the epoch ends: ``1875/1875 - 12s - 6ms/step - accuracy: ...``.
When the stream is not a terminal (a log file, a pipe, pytest), no carriage-return
frames are written: just the final line of each epoch.
"""
import math
import sys
import time

BAR_WIDTH = 20


def _is_interactive(stream):
    if "ipykernel" in sys.modules:
        return True
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False


def format_duration(seconds):
    """``12s``, ``3:07`` (min:sec) or ``1:02:03`` as Keras prints the time left (ETA)."""
    seconds = max(0, int(round(seconds)))
    if seconds >= 3600:
        return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
    if seconds >= 60:
        return f"{seconds // 60}:{seconds % 60:02d}"
    return f"{seconds}s"


def format_elapsed(seconds):
    """``144s``: Keras prints the time an epoch took in whole seconds, however long."""
    return f"{seconds:.0f}s"


def format_step_time(seconds_per_step):
    if seconds_per_step >= 1:
        return f"{seconds_per_step:.0f}s/step"
    if seconds_per_step >= 1e-3:
        return f"{seconds_per_step * 1e3:.0f}ms/step"
    return f"{seconds_per_step * 1e6:.0f}us/step"


def format_logs(logs):
    parts = []
    for key, value in (logs or {}).items():
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            v = float(value)
            text = f"{v:.4f}" if (abs(v) > 1e-3 or v == 0) and math.isfinite(v) else f"{v:.4e}"
        else:
            text = str(value)
        parts.append(f" - {key}: {text}")
    return "".join(parts)


class ProgressBar:
    """A progress bar over ``target`` steps (``None`` when unknown)."""

    def __init__(self, target, verbose=1, stream=None, interval=0.1):
        self.target = target
        self.verbose = verbose
        self.stream = stream if stream is not None else sys.stdout
        self.interactive = _is_interactive(self.stream)
        self.interval = interval
        self.start = time.monotonic()
        self._last_draw = 0.0
        self._last_width = 0

    def update(self, current, logs=None, finalize=False):
        """Report ``current`` steps done; draws only if enough time passed (or at the end)."""
        if self.verbose == 0:
            return
        now = time.monotonic()
        if self.verbose == 2:
            if finalize:
                self._write(self._line_verbose2(current, logs, now) + "\n")
            return
        if not finalize and (not self.interactive or now - self._last_draw < self.interval):
            return
        self._last_draw = now
        line = self._line(current, logs, now, finalize)
        if self.interactive:
            padding = " " * max(0, self._last_width - len(line))
            self._last_width = len(line)
            self._write("\r" + line + padding + ("\n" if finalize else ""))
        else:
            self._write(line + "\n")

    def _line(self, current, logs, now, finalize):
        elapsed = now - self.start
        per_step = elapsed / current if current else 0.0
        if self.target:
            width = len(str(self.target))
            done = min(BAR_WIDTH, int(BAR_WIDTH * current / self.target))
            if self.interactive:
                bar = "\x1b[1m" + "━" * done + "\x1b[0m" + "\x1b[2m" + "━" * (BAR_WIDTH - done) + "\x1b[0m"
            else:
                bar = "━" * done + " " * (BAR_WIDTH - done)
            head = f"{current:>{width}}/{self.target} {bar} "
        else:
            head = f"{current}/Unknown "
        if finalize or not self.target:
            timing = f"{format_elapsed(elapsed)} {format_step_time(per_step)}"
        else:
            timing = f"{format_duration(per_step * (self.target - current))} {format_step_time(per_step)}"
        return head + timing + format_logs(logs)

    def _line_verbose2(self, current, logs, now):
        elapsed = now - self.start
        per_step = elapsed / current if current else 0.0
        target = self.target if self.target else current
        return (f"{current}/{target} - {format_elapsed(elapsed)} - {format_step_time(per_step)}"
                + format_logs(logs))

    def _write(self, text):
        self.stream.write(text)
        self.stream.flush()
