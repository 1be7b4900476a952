"""HDFS's own permissions: the layer under Ranger.

When no Ranger policy decides an HDFS access, the NameNode falls back to the file's POSIX
permissions and ACLs (Ranger's audit then says `enforcer` = `hadoop-acl`). The NameNode
audit log records every change of them (`setPermission`, `setOwner`, `setAcl`, ...) with
the status it left, `perm=owner:group:mode` (`FSNamesystem.logAuditEvent`; the mode as
`FsPermission.toString` writes it, `rwxr-x---`, the last letter `t`/`T` for the sticky
bit). This module reads that status and says whom it lets read. ACL entries themselves are
not in the audit log: after an ACL change the group letters are the ACL mask, so a mask
that allows reading means named users or groups may read, who they are unknown.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

#: Commands after which named ACL entries may allow reading (the mask says whether).
ACL_GRANTING = frozenset({"setacl", "modifyaclentries"})
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
#: Stands for everyone (the mode's "other" class).
EVERYONE = "*"


@dataclass(frozen=True)
class PermissionChange:
    """One allowed change of a path's permissions, owner or ACL, as the audit log has it."""

    time_ms: int
    path: str
    command: str  # the audit log's cmd, e.g. setPermission
    perm: str | None  # owner:group:mode after the change, None when the log does not say
    principal: str  # who made the change
    source_file: str
    source_line: int

    def label(self) -> str:
        """How evidence names the change: command, path, status left and log line."""
        return (
            f"hdfs {self.command} {self.path} perm={self.perm or 'null'} "
            f"({self.source_file}:{self.source_line})"
        )


@dataclass(frozen=True)
class FileReaders:
    """Whom a path's permission status lets read it."""

    owner: str | None  # the owner, when the owner class may read
    group: str | None  # the group, when the group class may read
    everyone: bool  # the other class may read
    unknown: bool  # the status is unreadable, or ACL entries may allow others (mask r)

    def outside(
        self,
        baseline: Mapping[str, object],
        members: Mapping[str, frozenset[str]],
        owner_counts: bool,
    ) -> bool:
        """Whether someone the baseline does not let read may read at the file layer.

        The owner counts only when the change gave the path a new owner (`setOwner`):
        the owner could change the permissions anyway, so it was never shut out."""
        if EVERYONE in baseline:
            return False
        if self.everyone or self.unknown:
            return True
        if owner_counts and self.owner is not None and self.owner not in baseline:
            return True
        if self.group is not None:
            return any(
                self.group in groups and p not in baseline
                for p, groups in members.items()
                if p != EVERYONE
            )
        return False


def readers(change: PermissionChange) -> FileReaders:
    """Whom the status a change left lets read the path."""
    owner, group, mode = _status(change.perm)
    if mode is None:
        return FileReaders(None, None, everyone=False, unknown=True)
    command = change.command.lower()
    return FileReaders(
        owner=owner if mode[0] == "r" else None,
        group=group if mode[3] == "r" and command not in ACL_GRANTING else None,
        everyone=mode[6] == "r",
        unknown=command in ACL_GRANTING and mode[3] == "r",
    )


def _status(perm: str | None) -> tuple[str, str, str | None]:
    """Owner, group and mode of `owner:group:mode`; mode None when it is not a mode."""
    if not perm:
        return "", "", None
    owner, _, rest = perm.partition(":")
    group, _, mode = rest.rpartition(":")
    mode = mode.rstrip("+")
    if len(mode) != 9 or any(c not in "rwxstST-" for c in mode):
        return owner, group, None
    return owner, group, mode


def changes_from_rows(rows: Iterable[Mapping[str, object]]) -> list[PermissionChange]:
    """Permission changes from the rows of `queries/*/permission_changes.sql`."""
    return [
        PermissionChange(
            time_ms=_ms(row["time"]),
            path=str(row["path"]),
            command=str(row["command"]),
            perm=None if row["perm"] is None else str(row["perm"]),
            principal=str(row["principal"]),
            source_file=str(row["source_file"]),
            source_line=int(row["source_line"]),  # type: ignore[call-overload]
        )
        for row in rows
    ]


def _ms(moment: object) -> int:
    """Milliseconds since the epoch of a naive UTC timestamp as the engines return it."""
    assert isinstance(moment, datetime)
    return (moment.replace(tzinfo=timezone.utc) - _EPOCH) // timedelta(milliseconds=1)
