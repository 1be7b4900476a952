"""The report's kernels: started once, warmed while the investigation runs, shared by pages.

Each kernel renders many pages (its imports and the evidence it read are reused; the
names are cleared between pages), through one client kept for its whole life, with
which papermill executes the pages (`notebook_run.KEPT_CLIENT_ENGINE`). `Kernels`
starts them before the investigation, so their start and imports (~3 s each at 1M
events) run on the core the investigation leaves idle, not after it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from jupyter_client.blocking import BlockingKernelClient
from jupyter_client.manager import KernelManager

from forensics.errors import ReportError

#: Run in every kernel as soon as it is up: what the pages import (pandas, matplotlib with
#: the inline backend, the toolkit's modules), then `gc.freeze()`, which leaves those
#: objects out of later collections: IPython's `%reset` between pages collects, and over
#: a heap of imported modules each collection took ~0.2 s.
WARM_UP = """\
import gc
from forensics import annotations, findings, frontpage, narrative, plots, webpage
gc.freeze()
"""
#: How long a kernel may take to start, and one request to answer (pages take seconds).
TIMEOUT = 600


@dataclass(frozen=True)
class Kernel:
    """A kernel shared by the pages of a report and the one client that talks to it."""

    manager: KernelManager
    client: BlockingKernelClient

    def run(self, code: str, what: str) -> None:
        """Execute `code` in the kernel (no output kept); `what` it does names a failure."""
        reply = self.client.execute_interactive(
            code, timeout=TIMEOUT, output_hook=lambda _: None, store_history=False
        )
        if reply["content"]["status"] != "ok":
            raise ReportError(f"the report's kernel could not {what}")

    def stop(self) -> None:
        """Close the client and end the kernel."""
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=True)


def start_kernel(cwd: Path) -> Kernel:
    """A Python kernel started in `cwd`, its client connected and the imports of every
    page done (`WARM_UP`).

    One client serves every page: a new client waits for the kernel to answer and for its
    broadcast channel to fall silent (at least 0.4 s, twice a page: papermill's and the
    reset's), which cost more than a small page's cells."""
    km = KernelManager(kernel_name="python3")
    km.start_kernel(cwd=str(cwd), extra_arguments=["--IPKernelApp.log_level=ERROR"])
    kernel = Kernel(km, km.client())
    try:
        kernel.client.start_channels()
        kernel.client.wait_for_ready(timeout=TIMEOUT)
        kernel.client.allow_stdin = False
        kernel.run(WARM_UP, "import what the pages need")
    except BaseException:
        kernel.stop()
        raise
    return kernel


@contextmanager
def shared_kernel(cwd: Path) -> Iterator[Kernel]:
    """One Python kernel for every page of a report: started once, its imports and the
    evidence it read (`findings.load_evidence` keeps the last folder) reused by the next
    page, whose names are cleared first (`reset_names`). At 1M events a kernel per page
    spent ~10 s of each page starting, importing and reading the same 240,000 events."""
    kernel = start_kernel(cwd)
    try:
        yield kernel
    finally:
        kernel.stop()


def reset_names(kernel: Kernel) -> None:
    """Clear the kernel's user names (modules stay imported), so a page sees only its own
    parameters and cells, as in a kernel of its own."""
    kernel.run("%reset -f", "clear its names between pages")


class Kernels:
    """`count` kernels started at once in the background (each in a thread of its own,
    which mostly waits on the kernel), to be taken by the pages' workers once the evidence
    is there; every kernel is ended by `close`, taken or not."""

    def __init__(self, count: int) -> None:
        self._pool = ThreadPoolExecutor(count, thread_name_prefix="report-kernel-start")
        self._started: list[Future[Kernel]] = [
            self._pool.submit(start_kernel, Path.cwd()) for _ in range(count)
        ]

    def __len__(self) -> int:
        return len(self._started)

    def take(self, n: int, cwd: Path) -> Kernel:
        """The `n`th kernel once started (its start's failure raised here), moved to `cwd`
        (where a kernel of its own would have started)."""
        kernel = self._started[n].result()
        kernel.run(f"__import__('os').chdir({os.fspath(cwd)!r})", f"work in {cwd}")
        return kernel

    def read_ahead(self, folder: Path) -> None:
        """Ask every kernel already started to read the evidence in `folder` now, without
        waiting for it: `findings.load_evidence` keeps what it read for the first page,
        and meanwhile this process lists the pages (at 1M events each read takes ~0.7 s).
        A kernel runs its requests in order, so a page asked next waits for the read; a
        failed read is the first page's to report, when it reads again."""
        code = f"__import__('forensics.findings').findings.load_evidence({os.fspath(folder)!r})"
        for started in self._started:
            if started.done() and started.exception() is None:
                started.result().client.execute(code, silent=True, store_history=False)

    def close(self) -> None:
        """End every kernel (waiting for those still starting)."""
        self._pool.shutdown(wait=True)
        for started in self._started:
            if started.exception() is None:
                started.result().stop()


@contextmanager
def started_kernels(count: int) -> Iterator[Kernels]:
    """`Kernels(count)`, all ended on leaving."""
    kernels = Kernels(count)
    try:
        yield kernels
    finally:
        kernels.close()
