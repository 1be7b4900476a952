"""The report: the notebooks executed by papermill beside the evidence, linked by an index.

`report.html` is the one-page investigation notebook; `report/` holds the suite (scope,
who read what, one page per top reader, copies, findings), each executed and rendered
with its code hidden, and `index.html` links them all. The notebooks read the evidence
files (they never recompute them). Everything is rendered into the evidence's staging
folder, so a failing notebook leaves neither a half-written report nor new evidence.
"""

from __future__ import annotations

import importlib
import json
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from forensics import annotations, findings
from forensics.catalog import load_catalog
from forensics.errors import ReportError
from forensics.evidence import MANIFEST
from forensics.frontpage import Answer, Link, findings_html, index_html, opening_html
from forensics.investigation import Settings
from forensics.kernels import Kernel, Kernels, shared_kernel, started_kernels
from forensics.pushdown import investigate_where_kept
from forensics.webpage import PAGES_FILE, SCRIPT, STYLE, unique_slugs

NOTEBOOKS_DIR = Path(__file__).resolve().parent.parent / "notebooks"
MAIN_NOTEBOOK = NOTEBOOKS_DIR / "investigation.ipynb"
SUITE = ("00_scope", "10_who_read_what", "40_copies", "50_subjects", "90_findings")
PRINCIPAL_NOTEBOOK = "20_principal"
OBJECT_NOTEBOOK = "30_object"
REPORT_DIR = "report"
#: What this process makes once for the pages that show it (the index shows them too):
#: by the notebook parameter that names it, its file (in `report/`, removed when the pages
#: are done) and the notebooks given it, which without it compute it again.
MADE_ONCE = {
    "timeline_image": ("timeline.png", ("investigation", "10_who_read_what")),
    "opening_file": ("opening.part.html", ("investigation",)),
    "findings_file": ("findings.part.html", ("90_findings",)),
}
DEFAULT_TOP_READERS = 5
SUITE_TITLES = {
    "00_scope": "Scope: what was exposed, when, and who could read it anyway",
    "10_who_read_what": "Who read what only because of the exposure",
    "40_copies": "Copies made from exposed data",
    "50_subjects": "Data subjects concerned",
    "90_findings": "Findings: the summary to quote",
}


@dataclass(frozen=True)
class Page:
    """One rendered notebook: its file (relative to the evidence folder), its title and the
    group the index lists it under."""

    path: str
    title: str
    group: str = "pages"


def run_report(
    settings: Settings,
    top_readers: int = DEFAULT_TOP_READERS,
    profile: str | None = None,
    profiles: str | os.PathLike[str] | None = None,
    progress: Callable[[str], None] | None = None,
    on_page: Callable[[int, int, str], None] | None = None,
) -> tuple[Path, Path]:
    """Investigate the case, then execute and render the notebooks into the same folder.

    With a warehouse profile (`profile`, else the case's), the events are read where they
    are kept, as `forensics investigate --profile` does; the notebooks only ever read the
    evidence, so the report is the same whichever engine produced it."""
    if not isinstance(top_readers, int) or not 0 <= top_readers <= 1000:
        raise ReportError(f"top readers must be a whole number from 0 to 1000, not {top_readers}")

    def pages(stage: Path) -> None:
        imported.result()  # an import's failure is raised here
        render_suite(
            stage,
            top_readers,
            on_page,
            settings.case.annotations,
            settings.pseudonym_key,
            _directory_names(settings),
            started,
        )

    # while the investigation runs, the kernels start (and import what the pages need),
    # and a thread of this process imports what renders them
    with (
        started_kernels(_cores()) as started,
        ThreadPoolExecutor(1, thread_name_prefix="report-imports") as side,
    ):
        imported = side.submit(_import_rendering)
        folder = investigate_where_kept(settings, profile, profiles, progress, extra=pages)
    return folder, folder / "index.html"


#: The modules that execute and convert the pages (~2 s of imports, papermill and nbformat
#: mostly), imported by `run_report` beside the investigation.
RENDERING = ("forensics.notebook_run", "forensics.notebook_html")


def _import_rendering() -> None:
    for name in RENDERING:
        importlib.import_module(name)


def _directory_names(settings: Settings) -> list[str]:
    """The directory's people other than services, whose names a pseudonymized report's
    annotations must not show (read only when there are annotations to pseudonymize)."""
    if settings.pseudonym_key is None or settings.case.annotations is None:
        return []
    people = load_catalog(settings.case).people
    return sorted(name for name, (kind, _) in people.items() if kind != "service")


def render_suite(
    folder: Path,
    top_readers: int = DEFAULT_TOP_READERS,
    on_page: Callable[[int, int, str], None] | None = None,
    annotations_file: Path | None = None,
    pseudonym_key: bytes | None = None,
    names: list[str] | None = None,
    started: Kernels | None = None,
) -> list[Page]:
    """Every notebook of the report for the evidence in `folder`, and `index.html`
    (rendered in the kernels `started` ahead when given, else in kernels started here).

    The case's annotations (if any) are validated and copied beside the pages, which show
    them; the evidence files are not touched.

    Reader and object pages are named after whom they show (a file-name-safe slug);
    `report/pages.json` lists them so every page can link a name to its page."""
    if started is not None:
        started.read_ahead(folder)
    ev = findings.load_evidence(folder)
    readers = list(findings.top_principals(ev, top_readers)["principal"])
    objects = list(findings.top_objects(ev, top_readers)["object"])
    files = {
        "principal": {n: f"20_reader-{s}.html" for n, s in unique_slugs(readers).items()},
        "object": {n: f"30_object-{s}.html" for n, s in unique_slugs(objects).items()},
    }
    sub = folder / REPORT_DIR
    sub.mkdir(mode=0o700)
    annotations.stage_copy(annotations_file, sub, pseudonym_key, names or ())
    _write_private(sub / PAGES_FILE, json.dumps(files, indent=1, sort_keys=True) + "\n")
    params = {"evidence_dir": str(folder)}
    jobs: list[Job] = [
        (MAIN_NOTEBOOK, folder, params, "report", "Exposure investigation, on one page", "pages")
    ]
    for name in SUITE:
        extra = {"link_prefix": "../"} if name in ("50_subjects", "90_findings") else {}
        jobs.append(
            (
                NOTEBOOKS_DIR / f"{name}.ipynb",
                sub,
                {**params, **extra},
                name,
                SUITE_TITLES[name],
                "pages",
            )
        )
    for principal, file in files["principal"].items():
        jobs.append(
            (
                NOTEBOOKS_DIR / f"{PRINCIPAL_NOTEBOOK}.ipynb",
                sub,
                {**params, "principal": principal},
                file[:-5],
                f"Reader {principal}: every logged access, in order",
                "readers with a page",
            )
        )
    for obj, file in files["object"].items():
        jobs.append(
            (
                NOTEBOOKS_DIR / f"{OBJECT_NOTEBOOK}.ipynb",
                sub,
                {**params, "object": obj},
                file[:-5],
                f"Table {obj}: who read it, when and how",
                "tables with a page",
            )
        )
    made_files = {name: sub / file for name, (file, _) in MADE_ONCE.items()}
    jobs = [
        (nb, where, {**p, **_given(nb.stem, made_files)}, *rest) for nb, where, p, *rest in jobs
    ]
    pages = [
        Page(f"{stem}.html" if where == folder else f"{REPORT_DIR}/{stem}.html", title, group)
        for _, where, _, stem, title, group in jobs
    ]
    # beside the kernels, this process draws the timeline once, then writes the answer's
    # parts the pages show (computed once, with the index's), then the index, which needs
    # only the evidence, the page list and the answer. The pages showing them wait for
    # them; the timeline goes first: "who read what" waits for it, a long page of plots.
    found = Answer(ev)
    with ThreadPoolExecutor(1, thread_name_prefix="report-index") as side:
        made = {
            "timeline_image": side.submit(_draw_timeline, ev, made_files["timeline_image"]),
            "opening_file": side.submit(_write_opening, made_files["opening_file"], found, files),
            "findings_file": side.submit(_write_findings, made_files["findings_file"], found),
        }
        index = side.submit(
            lambda: write_index(
                folder, pages, top_readers, files, made["timeline_image"].result(), found
            )
        )

        def inputs(job: Job) -> list[Future[object]]:
            return [made[name] for name in made if name in job[2]]

        try:
            render_pages(
                jobs,
                sub,
                kernels(folder),
                on_page,
                before=lambda job: [done.result() for done in inputs(job)],
                ready=lambda job: all(done.done() for done in inputs(job)),
                started=started,
            )
        finally:
            wait([*made.values(), index])
    index.result()
    for path in made_files.values():
        path.unlink()  # shown inline by every page that has it
    return pages


def _given(stem: str, made_files: dict[str, Path]) -> dict[str, str]:
    """{parameter: file} of what this process makes once that the notebook `stem` shows."""
    return {name: str(made_files[name]) for name, (_, shown) in MADE_ONCE.items() if stem in shown}


def _index_links(files: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    """The reader and object pages per name, as linked from the evidence folder."""
    return {
        kind: {n: f"{REPORT_DIR}/{f}" for n, f in names.items()} for kind, names in files.items()
    }


def _write_opening(path: Path, found: Answer, files: dict[str, dict[str, str]]) -> None:
    """The one-page report's opening (`frontpage.opening_html`, its figures linking to the
    index's tables), kept at `path` (private) for its notebook to show."""
    _write_private(path, opening_html(found, _index_links(files), figure_page="index.html"))


def _write_findings(path: Path, found: Answer) -> None:
    """The findings page's content (`frontpage.findings_html`), kept at `path` (private)
    for its notebook to show."""
    _write_private(path, findings_html(found.ev.folder, found=found))


def _draw_timeline(ev: findings.Evidence, path: Path) -> bytes:
    """The timeline drawn once for every page of the report, also kept at `path` (private)
    for the notebooks to show."""
    import matplotlib

    matplotlib.use("Agg")
    from forensics import plots

    png = plots.timeline_png(ev)
    path.write_bytes(png)
    os.chmod(path, 0o600)
    return png


#: Kernels rendering pages at once (one per core, at most this many): each holds the
#: evidence it read, so memory grows with them.
MAX_KERNELS = 2
#: Above this size of access_events.csv the pages run in one kernel: a kernel holds about
#: six times the file's size (1M events: a 55 MB file, a 460 MB kernel), and two kernels
#: of a 10M-event case (580 MB) would take 7 GB.
ONE_KERNEL_ABOVE_BYTES = 300_000_000

Job = tuple[Path, Path, dict[str, object], str, str, str]


def kernels(folder: Path) -> int:
    """How many kernels render the pages: one per core up to `MAX_KERNELS`, one when the
    evidence is so large that two kernels' copies of it would crowd memory."""
    events = folder / "access_events.csv"
    size = events.stat().st_size if events.is_file() else 0
    if size > ONE_KERNEL_ABOVE_BYTES:
        return 1
    return _cores()


def _cores() -> int:
    """Kernels the machine can keep busy at once: one per core, up to `MAX_KERNELS`."""
    return max(1, min(MAX_KERNELS, os.cpu_count() or 1))


def render_pages(
    jobs: list[Job],
    cwd: Path,
    workers: int = 1,
    on_page: Callable[[int, int, str], None] | None = None,
    before: Callable[[Job], object] | None = None,
    ready: Callable[[Job], bool] | None = None,
    started: Kernels | None = None,
) -> list[Page]:
    """Render every job (notebook, folder, parameters, stem, title, group) in `workers`
    kernels at once (started in `cwd`), each taking the next job when its page is done:
    the first not taken for which `ready(job)` holds, else the first not taken, for which
    `before(job)` may then wait (what the page needs is still being made). The pages come
    back in the jobs' order whatever order they ran in (a page depends only on the
    evidence and its parameters). `on_page(done, total, title)` after each page. The
    first failure stops every worker and is raised. With `started` (kernels started ahead,
    at least `workers` of them), the workers take those instead of starting their own."""
    results: list[Page | None] = [None] * len(jobs)
    failures: list[BaseException] = []
    lock = threading.Lock()
    waiting = list(range(len(jobs)))
    state = {"done": 0}

    def take() -> int | None:
        with lock:
            if failures or not waiting:
                return None
            now = [i for i in waiting if ready is None or ready(jobs[i])]
            waiting.remove(i := (now or waiting)[0])
            return i

    def work(n: int) -> None:
        try:
            with _kernel(n) as kernel:
                while (i := take()) is not None:
                    notebook, folder, parameters, stem, title, _ = jobs[i]
                    if before is not None:
                        before(jobs[i])
                    results[i] = render_notebook(
                        notebook, folder, parameters, stem, title, kernel=kernel
                    )
                    with lock:
                        state["done"] += 1
                        if on_page is not None:
                            on_page(state["done"], len(jobs), title)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
            with lock:
                failures.append(exc)

    @contextmanager
    def _kernel(n: int) -> Iterator[Kernel]:
        if started is None:
            with shared_kernel(cwd) as kernel:
                yield kernel
        else:
            yield started.take(n, cwd)  # ended by its owner

    threads = [
        threading.Thread(target=work, args=(n,), name=f"report-kernel-{n}") for n in range(workers)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]
    return [page for page in results if page is not None]


def _write_private(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")
    os.chmod(path, 0o600)


def render_notebook(
    notebook: Path,
    folder: Path,
    parameters: dict[str, object],
    stem: str = "report",
    title: str | None = None,
    kernel: Kernel | None = None,
) -> Page:
    """Execute `notebook` with `parameters` into `folder/<stem>.ipynb` and render its HTML,
    titled `title` (default: the notebook's first heading), with a link back to the index.

    With `kernel`, the notebook runs in that (shared) kernel, its names cleared first;
    otherwise papermill starts a kernel for it alone."""
    # imported here: `run_report` imports them beside the investigation (`RENDERING`)
    from forensics import notebook_html, notebook_run

    node = notebook_run.execute(notebook, parameters, folder / f"{stem}.ipynb", kernel)
    title = title or notebook_run.title(node, notebook.stem)
    out = folder / f"{stem}.html"
    index_href = "index.html" if (folder / MANIFEST).is_file() else "../index.html"
    body, _ = notebook_html.exporter().from_notebook_node(
        node,
        resources={
            "metadata": {"name": title},
            "index_href": index_href,
            "report_style": STYLE,
            "report_script": SCRIPT,
        },
    )
    out.write_text(body, encoding="utf-8")
    for path in (folder / f"{stem}.ipynb", out):
        os.chmod(path, 0o600)
    return Page(out.name, title)


def write_index(
    folder: Path,
    pages: list[Page],
    top_readers: int = DEFAULT_TOP_READERS,
    files: dict[str, dict[str, str]] | None = None,
    timeline: bytes | None = None,
    found: Answer | None = None,
) -> Path:
    """`index.html`: the answer first (see `frontpage`; `found`: when already computed),
    then every page of the report (`timeline`: the timeline's PNG when already drawn)."""
    links = _index_links(files or {})
    links_list = [Link(p.path, p.title, p.group) for p in pages]
    index = folder / "index.html"
    _write_private(index, index_html(folder, links_list, top_readers, links, timeline, found))
    return index
