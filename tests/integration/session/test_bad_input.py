"""Bad input is one clear line: export documents of the wrong shape, stored files of the wrong shape, inputs
without bound, argv that is not UTF-8, a data root that cannot be written, stdout that cannot be written,
empty option values and flags that the command would ignore. Everything through the installed `ai`."""

from __future__ import annotations

import copy
import json
import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from app.background.snapshot import BackgroundState
from app.edits import apply_proposal
from app.events import Diagnostic, DiagnosticsUpdated, TestFailure, TestRunFinished
from app.session.store import ProjectStore
from tests.conftest import AI_BIN, git, run_ai
from tests.integration.edits.helpers import propose, replace

BODY = "".join(f"line {n}\n" for n in range(1, 11))


def one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert "Traceback" not in stderr and "internal error" not in stderr, stderr
    assert "Exception ignored" not in stderr, stderr
    assert len(lines) == 1 and lines[0].startswith("ai: "), stderr
    return lines[0]


def state(home: Path) -> dict[str, bytes]:
    """Every file under the data root with its bytes: what "nothing was left behind" compares."""
    return {str(p.relative_to(home)): p.read_bytes() for p in sorted(home.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A real export: a session with an applied change (hunks and all), an undo, a background snapshot."""
    home = tmp_path_factory.mktemp("export-home")
    root = tmp_path_factory.mktemp("export-src") / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    (root / "f.py").write_text(BODY)
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "f")
    store = ProjectStore(root, home=home)
    session = store.session("src")
    session.append_message("user", "tidy f", kind="goal")
    apply_proposal(propose(root, replace("f.py", "line 4\n", "four\n")), session=session, goal="tidy f")
    apply_proposal(
        propose(root, replace("f.py", "line 8\n", "eight\n")), session=session, goal="tidy f again"
    )
    background = BackgroundState()
    background.apply(TestRunFinished(passed=1, failed=1, failures=(TestFailure("t::x", "t.py", 3, "boom"),)))
    background.apply(DiagnosticsUpdated("f.py", 1, (Diagnostic("f.py", 1, 1, 1, 2, "error", "bad"),)))
    session.save_background(background.to_dict())
    session.record_undo(
        {"id": "u1", "undone": "c0", "summary": "s", "files": [], "diffs": {}, "commit": None}
    )
    return store.export_session("src")


def _set(path: list[Any], value: Any) -> Callable[[dict[str, Any]], None]:
    def spoil(document: dict[str, Any]) -> None:
        target = document
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return spoil


def _drop(path: list[Any]) -> Callable[[dict[str, Any]], None]:
    def spoil(document: dict[str, Any]) -> None:
        target = document
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]

    return spoil


# Each variant: what is spoiled, and the problem named by its JSON path (the QA variants and their twins).
SPOILED = [
    (_drop(["changes", 1, "id"]), "changes[1].id is missing (it must be a string)"),
    (_set(["changes", 0, "changes", 0, "path"], 7), "changes[0].changes[0].path must be a string (got 7)"),
    (_set(["changes", 0, "changes", 0, "path"], "a\0b"), "changes[0].changes[0].path must be a file path"),
    (_set(["changes", 0, "files", 0], 7), "changes[0].files[0] must be a string (got 7)"),
    (
        _drop(["changes", 0, "changes", 0, "hunks", 0, "old_lines"]),
        "changes[0].changes[0].hunks[0].old_lines is missing (it must be a list)",
    ),
    (
        _set(["changes", 0, "changes", 0, "hunks", 0, "new_lines"], "four"),
        'changes[0].changes[0].hunks[0].new_lines must be a list (got "four")',
    ),
    (
        _set(["changes", 0, "changes", 0, "action"], "rename"),
        'changes[0].changes[0].action must be one of "create", "modify", "remove" (got "rename")',
    ),
    (
        _set(["changes", 0, "changes", 0, "mode"], 2**40),
        "changes[0].changes[0].mode must be null or a file mode from 0 to 0o7777 (got 1099511627776)",
    ),
    (_set(["changes", 0, "undone"], "no"), 'changes[0].undone must be true or false (got "no")'),
    (_set(["metadata", "change_count"], "many"), 'metadata.change_count must be an integer (got "many")'),
    (
        _set(["metadata", "change_count"], -1),
        "metadata.change_count must be a whole number of 0 or more (got -1)",
    ),
    (_set(["metadata", "is_active"], "yes"), 'metadata.is_active must be true or false (got "yes")'),
    (_set(["metadata", "last_used"], 5), "metadata.last_used must be a string (got 5)"),
    (_set(["background"], []), "background must be an object (got a list)"),
    (_set(["background", "tests"], "red"), 'background.tests must be null or an object (got "red")'),
    (
        _set(["background", "tests", "failures", 0, "line"], "3"),
        'background.tests.failures[0].line must be an integer (got "3")',
    ),
    (
        _set(["background", "diagnostics", "f.py"], {}),
        'background.diagnostics["f.py"] must be a list (got an object)',
    ),
    (_set(["messages"], {"1": {}}), "messages must be a list (got an object)"),
    (_set(["messages", 0, "content"], 3), "messages[0].content must be a string (got 3)"),
    (_set(["messages", 0, "usage"], 3), "messages[0].usage must be null or an object (got 3)"),
    (_set(["undo", 0], "u1"), 'undo[0] must be an object (got "u1")'),
    (_set(["undo", 0, "files"], "f.py"), 'undo[0].files must be a list (got "f.py")'),
]


@pytest.mark.parametrize(("spoil", "problem"), SPOILED)
def test_import_names_the_first_bad_field_and_changes_nothing(
    spoil: Callable[[dict[str, Any]], None],
    problem: str,
    exported: dict[str, Any],
    git_project: Path,
    agent_home: Path,
    tmp_path: Path,
) -> None:
    assert run_ai("--session", "keep", cwd=git_project).returncode == 0
    before = state(agent_home)
    document = copy.deepcopy(exported)
    spoil(document)
    file = tmp_path / "spoiled.json"
    file.write_text(json.dumps(document))
    result = run_ai("--import-session", str(file), cwd=git_project)
    assert result.returncode == 2
    assert one_line(result.stderr).startswith(f"ai: import: {file}: {problem}")
    assert state(agent_home) == before
    # What the bad documents used to break downstream keeps working: listing, undo, suggestions.
    listing = run_ai("--list-sessions", "--json", cwd=git_project)
    assert [row["name"] for row in json.loads(listing.stdout)] == ["keep"]
    assert run_ai("--session", "src", "--undo", cwd=git_project).returncode == 2  # no such session


def test_the_unspoiled_export_imports_and_its_change_undoes(
    exported: dict[str, Any], git_project: Path, tmp_path: Path
) -> None:
    (git_project / "f.py").write_text(BODY.replace("line 4\n", "four\n").replace("line 8\n", "eight\n"))
    file = tmp_path / "whole.json"
    file.write_text(json.dumps(exported))
    assert run_ai("--import-session", str(file), cwd=git_project).returncode == 0
    undone = run_ai("--session", "src", "--undo", cwd=git_project)
    assert undone.returncode == 0, undone.stderr
    assert (git_project / "f.py").read_text() == BODY.replace("line 4\n", "four\n")


def _minimal(name: str = "x") -> dict[str, Any]:
    return {
        "format": "ai-agent-session",
        "version": 1,
        "metadata": {"name": name, "created_at": "t", "last_used": "t"},
        "messages": [],
        "changes": [],
        "undo": [],
    }


def _nested(depth: int) -> Any:
    value: Any = []
    for _ in range(depth - 1):
        value = [value]
    return value


@pytest.mark.parametrize(
    ("make", "problem"),
    [
        (lambda d: "[" * 100_000 + "]" * 100_000, "nests lists and objects deeper than 64 levels"),
        (
            lambda d: json.dumps(
                {**d, "messages": [{"role": "user", "content": "x", "extra": _nested(200)}]}
            ),
            "messages[0].extra[0][0]",
        ),
        # A lone surrogate parses in Python's json but can never be written back to a session file.
        (lambda d: json.dumps({**d, "messages": [{"role": "user", "content": "\ud800"}]}), "not JSON"),
        (lambda d: "", "nothing (it is empty)"),
    ],
)
def test_a_document_nested_without_end_or_unwritable_is_a_usage_error(
    make: Callable[[dict[str, Any]], str], problem: str, project: Path, agent_home: Path, tmp_path: Path
) -> None:
    file = tmp_path / "doc.json"
    file.write_text(make(_minimal()))
    result = run_ai("--import-session", str(file), cwd=project)
    assert result.returncode == 2
    assert problem in one_line(result.stderr)
    assert not (agent_home / "data").exists()


def test_import_reads_with_a_bound(project: Path, agent_home: Path, tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)  # nobody writes it: reading must not wait for a writer
    huge = tmp_path / "huge.json"
    with open(huge, "wb") as handle:
        handle.truncate(2 * 1024**3)  # sparse: 2 GiB that must not be read
    for source, problem in (
        ("/dev/zero", "larger than 64 MiB"),
        (str(huge), "larger than 64 MiB"),
        (str(fifo), "nothing (it is empty)"),
    ):
        result = run_ai("--import-session", source, cwd=project)
        assert result.returncode == 2, source
        assert one_line(result.stderr).startswith(f"ai: import: {source}: {problem}")
    endless = subprocess.Popen(["yes"], stdout=subprocess.PIPE)
    try:
        result = subprocess.run(
            [str(AI_BIN), "--import-session", "-"], cwd=project, stdin=endless.stdout, capture_output=True,
            text=True, timeout=120,
        )  # fmt: skip
    finally:
        endless.kill()
        endless.wait()
    assert result.returncode == 2 and "larger than 64 MiB" in one_line(result.stderr)
    assert not (agent_home / "data").exists()


# -- argv that is not UTF-8 -----------------------------------------------------------------------------------

NOT_UTF8 = os.fsdecode(b"fix \xff the bug")  # what Python makes of those argv bytes: a surrogate escape


@pytest.mark.parametrize(
    ("args", "flag"),
    [
        (["--build", NOT_UTF8, "--yes"], "--build"),
        (["--build", NOT_UTF8, "--dry-run", "--json"], "--build"),
        (["--session", NOT_UTF8], "--session"),
        (["--build", "ok", "--model", NOT_UTF8], "--model"),
        (["--build", "ok", "--test-cmd", NOT_UTF8], "--test-cmd"),
        (["--build", "ok", "--base-url", "http://h/" + NOT_UTF8], "--base-url"),
        (["--search", NOT_UTF8], "--search"),
    ],
)
def test_argv_that_is_not_utf8_is_refused_before_anything_is_created(
    args: list[str], flag: str, project: Path, agent_home: Path
) -> None:
    assert run_ai("--session", "keep", cwd=project).returncode == 0
    before = state(agent_home)
    result = run_ai(*args, cwd=project)
    assert result.returncode == 2
    line = one_line(result.stderr)
    assert line.startswith(f"ai: {flag} ") and "is not valid UTF-8" in line and "\\xff" in line
    assert state(agent_home) == before  # no new session, the active mark where it was


@pytest.mark.parametrize("var", ["AI_AGENT_MODEL", "OPENAI_BASE_URL", "OPENAI_API_KEY"])
def test_model_environment_that_is_not_utf8_is_refused_before_anything_is_created(
    var: str, project: Path, agent_home: Path
) -> None:
    env = {"AI_AGENT_MODEL": "m", "OPENAI_BASE_URL": "http://127.0.0.1:9/v1", var: "x" + NOT_UTF8}
    result = run_ai("--build", "tidy", "--yes", cwd=project, env=env)
    assert result.returncode == 2
    assert one_line(result.stderr) == (
        f"ai: {var} is not valid UTF-8: ai sends it to the model endpoint; set it as UTF-8 text"
    )
    assert not (agent_home / "data").exists()


def test_a_data_root_or_project_path_that_is_not_utf8_is_a_usage_error(
    project: Path, agent_home: Path, tmp_path: Path
) -> None:
    home = os.fsdecode(os.fsencode(str(tmp_path)) + b"/home\xff")
    result = run_ai("--session", "s", cwd=project, env={"AI_AGENT_HOME": home})
    assert result.returncode == 2
    assert "AI_AGENT_HOME" in one_line(result.stderr) and "not valid UTF-8" in result.stderr
    assert not os.path.exists(home)
    folder = os.fsencode(str(tmp_path)) + b"/proj\xff"
    os.mkdir(folder)
    result = subprocess.run(
        [str(AI_BIN), "--session", "s"], cwd=folder, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 2
    assert "the project folder" in one_line(result.stderr) and "\\xff" in result.stderr
    assert not (agent_home / "data").exists()


# -- a data root that cannot be written -----------------------------------------------------------------------


@pytest.fixture
def mounted(tmp_path: Path) -> Iterator[Callable[..., Path]]:
    """Small tmpfs mounts (the tests run as root on the CI machine); skipped where mount is not allowed."""
    points: list[Path] = []

    def mount(size: str = "64k", read_only: bool = False) -> Path:
        point = tmp_path / f"mnt{len(points)}"
        point.mkdir()
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(point)], capture_output=True
        )
        if done.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
        points.append(point)
        if read_only:
            subprocess.run(["mount", "-o", "remount,ro", str(point)], check=True)
        return point

    yield mount
    for point in reversed(points):
        subprocess.run(["umount", str(point)], check=False)


def test_a_full_data_root_is_one_line_and_keeps_what_was_stored(
    mounted: Callable[..., Path], project: Path
) -> None:
    home = mounted("64k")
    env = {"AI_AGENT_HOME": str(home)}
    assert run_ai("--session", "first", cwd=project, env=env).returncode == 0
    stored = state(home)
    with open(home / "filler", "wb", buffering=0) as handle:  # fill the device to the last block
        try:
            while True:
                handle.write(b"\0" * 4096)
        except OSError:
            pass
    result = run_ai("--session", "second-session-with-a-name", cwd=project, env=env)
    assert result.returncode == 1
    line = one_line(result.stderr)
    assert f"cannot write {home}/data/" in line and "the device is full" in line
    assert "point AI_AGENT_HOME at another folder" in line
    after = state(home)
    del after["filler"]
    assert {k: v for k, v in after.items() if not k.endswith(".lock")} == {
        k: v for k, v in stored.items() if not k.endswith(".lock")
    }  # no half-written file, no temp file; the index and session are as they were
    (home / "filler").unlink()
    listing = run_ai("--list-sessions", "--json", cwd=project, env=env)
    assert [row["name"] for row in json.loads(listing.stdout)] == ["first"]


def test_a_read_only_data_root_is_one_line(mounted: Callable[..., Path], project: Path) -> None:
    home = mounted("1m", read_only=True)
    result = run_ai("--session", "s", cwd=project, env={"AI_AGENT_HOME": str(home)})
    assert result.returncode == 1
    line = one_line(result.stderr)
    assert f"cannot write {home}/data" in line and "read-only file system" in line
    # Reading needs no write: the listing still answers.
    listing = run_ai("--list-sessions", cwd=project, env={"AI_AGENT_HOME": str(home)})
    assert listing.returncode == 0 and listing.stderr == ""


def test_a_data_root_that_is_a_file_is_one_line(project: Path, tmp_path: Path) -> None:
    home = tmp_path / "home-file"
    home.write_text("not a folder\n")
    for args in (["--session", "s"], ["--list-sessions"], ["--build", "x", "--yes"], ["--undo"]):
        result = run_ai(*args, cwd=project, env={"AI_AGENT_HOME": str(home)})
        assert result.returncode == 1, args
        assert one_line(result.stderr) == (
            f"ai: AI_AGENT_HOME {home} is not a folder: point AI_AGENT_HOME at a folder (or move that file "
            "away); nothing was written"
        )
    assert home.read_text() == "not a folder\n"
    inside = run_ai("--session", "s", cwd=project, env={"AI_AGENT_HOME": str(home / "sub")})
    assert inside.returncode == 1 and "a part of that path is a file" in one_line(inside.stderr)


def test_exporting_to_a_full_device_is_one_line(mounted: Callable[..., Path], project: Path) -> None:
    run_ai("--session", "s", cwd=project)
    ProjectStore(project).session("s").append_message("user", "x" * 100_000)
    device = mounted("64k")
    result = run_ai("--export-session", "s", str(device / "s.json"), cwd=project)
    assert result.returncode == 1
    assert "the device is full" in one_line(result.stderr)
    assert list(device.iterdir()) == []


# -- stdout that cannot be written ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["--list-sessions"],
        ["--list-sessions", "--json"],
        ["--export-session", "main"],
        ["--help"],
        ["--version"],
    ],
)
def test_stdout_on_a_full_device_is_one_line_and_exit_1(args: list[str], project: Path) -> None:
    assert run_ai(cwd=project).returncode == 0
    with open("/dev/full", "w") as full:
        result = subprocess.run(
            [str(AI_BIN), *args], cwd=project, stdout=full, stderr=subprocess.PIPE, text=True, timeout=120
        )
    assert result.returncode == 1
    assert one_line(result.stderr) == (
        "ai: cannot write the output to stdout: the device is full; send it to a file or device with room"
    )


@pytest.mark.parametrize("args", [["--list-sessions"], ["--export-session", "main"], ["--help"]])
def test_stdout_closed_early_is_a_quiet_exit(args: list[str], project: Path) -> None:
    assert run_ai(cwd=project).returncode == 0
    reader, writer = os.pipe()
    os.close(reader)  # `| head -0`: the reader is gone before ai writes
    try:
        result = subprocess.run(
            [str(AI_BIN), *args], cwd=project, stdout=writer, stderr=subprocess.PIPE, text=True, timeout=120
        )
    finally:
        os.close(writer)
    assert result.returncode == 0
    assert result.stderr == ""


def test_stdout_closed_from_the_start_is_a_quiet_exit(project: Path) -> None:
    result = subprocess.run(
        [str(AI_BIN), "--session", "s"], cwd=project, stderr=subprocess.PIPE, text=True, timeout=120,
        preexec_fn=lambda: os.close(1),  # `ai --session s >&-`
    )  # fmt: skip
    assert result.returncode == 0 and result.stderr == ""
    assert "s" in run_ai("--list-sessions", cwd=project).stdout


# -- empty values and flags the command would ignore ----------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["--build", "x", "--model", ""], "ai: --model is empty: name a model"),
        (["--build", "x", "--model", "  "], "ai: --model is empty: name a model"),
        (["--build", "x", "--base-url", ""], "ai: --base-url is empty"),
        (["--fix", "--test-cmd", ""], "ai: --test-cmd is empty"),
        (["--project", "", "--list-sessions"], "ai: --project is empty"),
        (["--import-session", ""], "ai: --import-session is empty"),
        (["--export-session", "main", ""], "ai: --export-session FILE is empty"),
        (["--session", ""], "ai: invalid session name ''"),
        (["--continue", "--list-sessions"], "ai: --continue does not go with --list-sessions"),
        (["--continue", "--delete-session", "main"], "ai: --continue does not go with --delete-session"),
        (["--continue", "--export-session", "main"], "ai: --continue does not go with --export-session"),
        (["--continue", "--import-session", "f"], "ai: --continue does not go with --import-session"),
        (["--continue", "--search", "x"], "ai: --continue does not go with --search"),
        (["--continue", "--trust"], "ai: --continue does not go with --trust"),
        (["--continue", "--undo"], "ai: --continue does not go with --undo"),
        (["--continue", "--fix"], "ai: --continue does not go with --fix"),
        (["--continue", "--suggest"], "ai: --continue does not go with --suggest"),
        (["--session", "main", "--list-sessions"], "ai: --session does not go with --list-sessions"),
        (
            ["--session", "main", "--delete-session", "main"],
            "ai: --session does not go with --delete-session",
        ),
        (["--session", "x", "--export-session", "main"], "ai: --session does not go with --export-session"),
        (["--session", "main", "--trust"], "ai: --session does not go with --trust"),
        (["--trust", "--list-sessions"], "ai: --list-sessions and --trust cannot be used together"),
    ],
)
def test_empty_values_and_ignored_flags_are_usage_errors(
    args: list[str], line: str, project: Path, agent_home: Path
) -> None:
    assert run_ai(cwd=project).returncode == 0
    before = state(agent_home)
    result = run_ai(*args, cwd=project)
    assert result.returncode == 2
    assert one_line(result.stderr).startswith(line)
    assert result.stdout == ""
    assert state(agent_home) == before


def test_documented_combinations_still_work(project: Path, tmp_path: Path) -> None:
    assert run_ai("--session", "work", cwd=project).returncode == 0
    assert run_ai("--session", "work", "--continue", cwd=project).returncode == 0
    assert run_ai("--session", "work", "--continue", "--json", cwd=project).returncode == 0
    assert run_ai("--continue", "--session", "work", cwd=project).returncode == 0
    exported = tmp_path / "work.json"
    assert run_ai("--export-session", "work", str(exported), cwd=project).returncode == 0
    assert run_ai("--import-session", str(exported), "--session", "copy", cwd=project).returncode == 0
    assert run_ai("--session", "copy", "--undo", "--dry-run", cwd=project).returncode == 0
    assert run_ai("--list-sessions", "--json", cwd=project).returncode == 0
    assert run_ai("--project", str(project), "--list-sessions", cwd=tmp_path).returncode == 0


# -- stored data of the wrong shape: reported by every reader, never a crash --------------------------------


def _damage_stored_change(store: ProjectStore, name: str) -> bytes:
    """Give the session's stored change a path that is a number, as a hand edit or another tool might."""
    path = store.session_path(name)
    data = json.loads(path.read_bytes())
    data["changes"]["1"]["changes"][0]["path"] = 7
    damaged = json.dumps(data).encode()
    path.write_bytes(damaged)
    return damaged


@pytest.mark.parametrize(
    "args",
    [
        ["--session", "bad", "--undo"],
        ["--session", "bad", "--undo", "--dry-run"],
        ["--session", "bad", "--continue"],
        ["--export-session", "bad"],
        ["--session", "bad", "--build", "tidy", "--yes"],
        ["--session", "bad", "--suggest"],
    ],
)
def test_every_reader_of_a_malformed_stored_session_reports_it_and_moves_it_aside(
    args: list[str], git_project: Path
) -> None:
    (git_project / "f.py").write_text(BODY)
    git(git_project, "add", ".")
    git(git_project, "commit", "-q", "-m", "f")
    store = ProjectStore(git_project)
    proposal = propose(git_project, replace("f.py", "line 4\n", "four\n"))
    apply_proposal(proposal, session=store.session("bad"), goal="tidy f")
    store.session("good").append_message("user", "still here")
    head = git(git_project, "rev-parse", "HEAD")
    damaged = _damage_stored_change(store, "bad")

    result = run_ai(*args, cwd=git_project)
    assert result.returncode == 1
    line = one_line(result.stderr)
    path = store.session_path("bad")
    assert line.startswith(f"ai: session file {path} is damaged ")
    assert '(changes["1"].changes[0].path must be a string (got 7))' in line and "kept aside as" in line
    (kept,) = store.sessions_dir.glob("bad.json.corrupt-*")
    assert kept.read_bytes() == damaged and not path.exists()
    assert git(git_project, "rev-parse", "HEAD") == head
    assert (git_project / "f.py").read_text() == BODY.replace("line 4\n", "four\n")
    listing = run_ai("--list-sessions", "--json", cwd=git_project)
    assert listing.returncode == 0 and [r["name"] for r in json.loads(listing.stdout)] == ["good"]


def test_suggest_skips_another_sessions_malformed_file_with_a_note(git_project: Path) -> None:
    (git_project / "f.py").write_text(BODY)
    store = ProjectStore(git_project)
    apply_proposal(
        propose(git_project, replace("f.py", "line 4\n", "four\n")), session=store.session("bad"), goal="g"
    )
    store.session("main").append_message("user", "hello")
    _damage_stored_change(store, "bad")
    result = run_ai("--suggest", cwd=git_project)
    assert result.returncode == 0, result.stderr
    assert f"note: skipped: session file {store.session_path('bad')} is damaged" in result.stdout
    assert list(store.sessions_dir.glob("bad.json.corrupt-*"))
