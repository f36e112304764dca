"""Progress bars: live in a terminal, a line every 10 s when written to a log file."""

import sys

from tqdm.auto import tqdm


def progress_bar(iterable=None, **kwargs):
    if not sys.stderr.isatty():
        kwargs.setdefault("mininterval", 10.0)
    return tqdm(iterable, **kwargs)
