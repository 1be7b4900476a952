"""The project's errors: each message names the file, key or line and says what to fix.

The library raises these; only the CLI turns them into one line and an exit status.
"""

from __future__ import annotations


class ForensicsError(Exception):
    """Base class: a problem the user can fix, described in one line."""

    exit_code = 2


class CaseError(ForensicsError):
    """The case file is wrong: names the key and what to put there."""


class InputError(ForensicsError):
    """An input file (log, policy export, directory, catalog) cannot be used as given."""


class QueryError(ForensicsError):
    """A query template or a parameter bound to it is invalid, or a statement was refused."""


class PolicyError(ForensicsError):
    """A policy export, service definition or request cannot be evaluated."""


class EvidenceError(ForensicsError):
    """Evidence cannot be written, or a delivered evidence folder fails verification."""

    exit_code = 1


class ReportError(ForensicsError):
    """A report notebook failed: names the notebook and the cell."""

    exit_code = 1
