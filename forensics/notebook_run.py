"""One notebook executed by papermill: in a kernel of its own, or in a shared kernel
through that kernel's kept client (`KEPT_CLIENT_ENGINE`).

Imported by the report beside the investigation, not before it: papermill and nbformat
take ~2 s to import (nbformat's schema checker alone ~1 s), time the investigation
leaves a core idle for.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import papermill
from jupyter_client.blocking import BlockingKernelClient
from papermill.clientwrap import PapermillNotebookClient
from papermill.engines import NBClientEngine, papermill_engines
from papermill.log import logger as papermill_logger
from papermill.utils import remove_args

from forensics.errors import ReportError
from forensics.kernels import Kernel, reset_names


class _KeptClientEngine(NBClientEngine):
    """papermill's nbclient engine, executing in a shared kernel through its kept client
    (`kc`) instead of a new client per notebook."""

    @classmethod
    def execute_managed_notebook(  # type: ignore[override]
        cls,
        nb_man: object,
        kernel_name: str,
        kc: BlockingKernelClient,
        start_timeout: int = 60,
        **kwargs: object,
    ) -> object:
        """As `NBClientEngine`'s, with `kc` as the client (nbclient makes none then)."""
        client = PapermillNotebookClient(
            nb_man,
            kernel_name=kernel_name,
            startup_timeout=start_timeout,
            log=papermill_logger,
            **remove_args(["input_path"], **kwargs),
        )
        client.kc = kc
        return client.execute()


#: papermill's name of the engine above.
KEPT_CLIENT_ENGINE = "forensics-kept-client"
papermill_engines.register(KEPT_CLIENT_ENGINE, _KeptClientEngine)


def execute(
    notebook: Path,
    parameters: dict[str, object],
    executed: Path,
    kernel: Kernel | None = None,
) -> nbformat.NotebookNode:
    """`notebook` executed with `parameters` (each one it declares, else a clear error),
    written to `executed` without its parameters cell (its defaults are demo names, not
    this case's) and returned. With `kernel`, it runs in that shared kernel, its names
    cleared first; otherwise papermill starts a kernel for it alone, in the folder of
    `executed`."""
    declared = papermill.inspect_notebook(str(notebook))
    unknown = sorted(set(parameters) - set(declared))
    if unknown:
        raise ReportError(
            f"{notebook.name}: no parameter(s) {', '.join(unknown)}; "
            f"it accepts {', '.join(sorted(declared))}"
        )
    if kernel is not None:
        reset_names(kernel)
    try:
        # no output path: papermill would write the whole notebook (every output so far,
        # validated) at each cell's start and end; it is written once below. With a shared
        # kernel (started in its folder) no `cwd` either: papermill changes the process's
        # directory for it, which two pages rendering at once would interleave.
        node = papermill.execute_notebook(
            str(notebook),
            None,
            parameters=parameters,
            kernel_name="python3",
            progress_bar=False,
            log_output=False,
            cwd=None if kernel is not None else str(executed.parent),
            extra_arguments=["--IPKernelApp.log_level=ERROR"],  # no transport chatter
            **(
                {"engine_name": KEPT_CLIENT_ENGINE, "km": kernel.manager, "kc": kernel.client}
                if kernel is not None
                else {}
            ),
        )
    except papermill.PapermillExecutionError as exc:
        executed.unlink(missing_ok=True)
        raise ReportError(
            f"{notebook.name}: cell {exc.exec_count} failed with {exc.ename}: {exc.evalue}"
        ) from None
    node.cells = [c for c in node.cells if "parameters" not in c.metadata.get("tags", [])]
    nbformat.write(node, executed)
    return node


def title(node: nbformat.NotebookNode, fallback: str) -> str:
    """The notebook's first heading."""
    for cell in node.cells:
        if cell.cell_type == "markdown" and cell.source.startswith("# "):
            return cell.source.splitlines()[0][2:].strip()
    return fallback
