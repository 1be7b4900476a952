"""Opening the case's input files: regular files only, never blocking.

The case file's loader refuses FIFOs and devices a path or glob names, but a file can be
swapped for one later (before ingest reads it, before the manifest hashes it, before
`verify` or `trace` open it): opening a FIFO blocks until someone writes to it, and a
device never ends. So every reader of an input (logs, catalog, directory, policies,
annotations) opens it here, without blocking, and looks at what it opened.
"""

from __future__ import annotations

import contextlib
import io
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, TextIO

from forensics.errors import InputError


def open_input(path: Path) -> BinaryIO:
    """`path` opened for reading as bytes, refused (`InputError`) unless it is a regular
    file; a missing or unreadable file raises `OSError` as `open` does."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise InputError(
                f"{path}: is not a regular file any more (a FIFO, device or socket); reading "
                "it could block or never end: put the log or export file back and rerun"
            )
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def check_input(path: Path) -> None:
    """`InputError` unless `path` is a regular file now, for a reader that opens it by
    name itself (pyarrow's Parquet reader)."""
    with open_input(path):
        pass


@contextlib.contextmanager
def open_input_text(
    path: Path, encoding: str = "utf-8", errors: str = "strict", newline: str | None = None
) -> Iterator[TextIO]:
    """`path` (a regular file, `open_input`) as text, as `open(path, encoding=...)` gives."""
    with io.TextIOWrapper(open_input(path), encoding=encoding, errors=errors, newline=newline) as f:
        yield f


def input_text(path: Path, encoding: str = "utf-8") -> str:
    """A whole input file (a regular file, `open_input`) as text, as `Path.read_text` gives."""
    with open_input_text(path, encoding) as f:
        return f.read()
