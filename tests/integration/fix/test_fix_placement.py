"""The fix loop places its edits by the rule of every apply: where the model meant them, or not at all. The user
may save while a fix is being made; neither the copy nor the user's tree gets the fix on a look-alike."""

from __future__ import annotations

from pathlib import Path

from app.config import load_config
from app.events import Decision, DecisionKind, DiffReady, ErrorEvent, Finished, FixAttempt, FixStarted
from app.fix.loop import FixRequest, run_fix
from app.fix.testrun import run_tests
from app.session.store import ProjectStore
from app.trust import trust_current
from tests.conftest import git
from tests.integration.edits.helpers import AREA_ANCHOR, in_area
from tests.support.fix_project import TEST_CMD, replace_block
from tests.waiting import until

HELPERS = "def check(v):\n    assert v >= 0\n\n\ndef log(v):\n    pass\n\n\n"
BODY = (
    "    check(w)\n    check(h)\n    size = w * h\n    log(size)\n    size = round(size, 1)\n    log(size)\n"
)
BODY += "    return size\n\n\n"
TESTS = "from geometry import area\n\n\ndef test_area():\n    assert area(1.234, 1) == 1.23\n"
ROUNDED = "    size = round(size, 2)\n"


def make_project(root: Path, geometry: str) -> Path:
    (root / "geometry.py").write_text(geometry)
    (root / "test_geometry.py").write_text(TESTS)
    (root / ".gitignore").write_text("__pycache__/\n.pytest_cache/\n")
    (root / ".ai-agent.toml").write_text(f"test_cmd = {TEST_CMD!r}\nfix_attempts = 1\n")
    trust_current(root)
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "geometry")
    return root


def copied(parent: Path, text: str) -> bool:
    """The scratch copy under ``parent`` holds geometry.py as ``text`` (the copy is made in a thread)."""
    return any(p.read_bytes() == text.encode() for p in parent.glob("*/geometry.py"))


async def test_blocks_made_on_the_file_as_shown_never_land_on_a_look_alike_in_the_copy(
    git_project: Path, model, tmp_path: Path
) -> None:
    # volume is a method: its body is area's one level deeper, except that area rounds to one place.
    box = "class Box:\n    def volume(self, w, h):\n" + "".join(
        "    " + line if line.strip() else line
        for line in BODY.replace(", 1)", ")").splitlines(keepends=True)
    )
    original = HELPERS + "def area(w, h):\n" + BODY + box
    root = make_project(git_project, original)
    # The model is shown the file after the user saved area like volume (the copy already has the old
    # one); its anchor, area's lines as shown, fits the copy only at volume once indentation is ignored.
    saved = in_area(original, "round(size, 1)", "round(size)")
    server = model(
        [
            {
                "reply": replace_block(
                    AREA_ANCHOR, AREA_ANCHOR.replace("round(size)", "round(size, 2)"), "geometry.py"
                )
            }
        ]
    )
    config = load_config(root, {"base_url": server.base_url, "model": "scripted-model"})
    baseline = await run_tests(TEST_CMD, root)
    assert not baseline.ok
    parent = tmp_path / "scratch"
    parent.mkdir()
    request = FixRequest(
        root, ProjectStore(root).session("main"), config, baseline=baseline, scratch_parent=parent
    )

    async def never(_ready: DiffReady) -> Decision:
        return Decision(DecisionKind.REJECT)

    events = []
    async for event in run_fix(request, never):
        events.append(event)
        if isinstance(event, FixStarted):
            await until(lambda: copied(parent, original), what="the copy of geometry.py")
            (root / "geometry.py").write_text(saved)
    attempts = [e for e in events if isinstance(e, FixAttempt) and e.outcome != "started"]
    assert all("        size = round(size, 2)" not in e.diff for e in attempts)
    assert attempts[0].outcome == "invalid" and "geometry.py changed since it was read" in attempts[0].reason
    assert (root / "geometry.py").read_text() == saved
    assert isinstance(events[-1], Finished) and events[-1].exit_code == 1


async def test_a_verified_fix_is_not_applied_to_a_look_alike_when_the_user_rewrote_its_lines(
    git_project: Path, model
) -> None:
    original = HELPERS + "def area(w, h):\n" + BODY + "def volume(w, h):\n" + BODY + "def main():\n    pass\n"
    root = make_project(git_project, original)
    anchor = "def area(w, h):\n" + BODY[: BODY.index("    log(size)\n    return")]
    server = model(
        [{"reply": replace_block(anchor, anchor.replace("round(size, 1)", "round(size, 2)"), "geometry.py")}]
    )
    config = load_config(root, {"base_url": server.base_url, "model": "scripted-model"})
    mine = in_area(original, "round(size, 1)", "round(size, 3)")

    async def decide(ready: DiffReady) -> Decision:
        (root / "geometry.py").write_text(mine)  # the user changes the same line before approving
        return Decision(DecisionKind.APPLY)

    head = git(root, "rev-parse", "HEAD")
    events = [e async for e in run_fix(FixRequest(root, ProjectStore(root).session("main"), config), decide)]
    (error,) = [e for e in events if isinstance(e, ErrorEvent)]
    assert error.exit_code == 3 and "geometry.py changed since the proposal and hunk 1" in error.message
    assert (root / "geometry.py").read_text() == mine
    assert git(root, "rev-parse", "HEAD") == head
