"""The edit engine: matching, the in-memory transaction, safe writes, git commits and undo.

``build_proposal`` turns an answer's blocks into a :class:`Proposal` (nothing written);
``apply_proposal`` writes it atomically with backups and a commit; ``undo_last`` takes a session's latest
change back.
"""

from app.edits.apply import apply_proposal, summarize_goal
from app.edits.proposal import FileChange, Proposal, build_proposal
from app.edits.transaction import restore_backup
from app.edits.undo import UndoPlan, latest_undoable, plan_undo, undo_last
from app.errors import EditError, RefusedError
from app.text.diffs import Hunk
from app.text.textfile import MAX_FILE_BYTES, content_hash

__all__ = [
    "MAX_FILE_BYTES",
    "EditError",
    "FileChange",
    "Hunk",
    "Proposal",
    "RefusedError",
    "UndoPlan",
    "apply_proposal",
    "build_proposal",
    "content_hash",
    "latest_undoable",
    "plan_undo",
    "restore_backup",
    "summarize_goal",
    "undo_last",
]
