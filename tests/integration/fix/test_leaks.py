"""The fix loop sends nothing that must not leave: not a file outside the project reached through a symlink
(neither as a file of the failure's stack nor when the model asks for it with READ), not a secrets file, not a
file holding a private key, not a link inside the project that leads to a secrets file. Each such file holds
a marker; no request the scripted model server received may carry one."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.conftest import git, run_ai
from tests.integration.pipeline.test_leaks import SECRET_FILES, private_key
from tests.support.fix_project import RIGHT, env_for

# The marker sits outside the failing function: pytest's own report quotes the function (the test command's
# output is the failure the model is told), the file in full would carry the rest.
SHARED = "def first(values):\n    return values[0]\n\n\nELSEWHERE = 'OUTSIDE-FRAME-MARKER'\n"
SHARED_TEST = "from calc.shared import first\n\n\ndef test_first():\n    assert first([4]) == 4\n"
MARKER = re.compile(r"[A-Z]+(?:-[A-Z]+)*-MARKER")


@pytest.fixture
def linked(broken: Path, tmp_path: Path) -> Path:
    """The broken calculator whose calc/shared.py is a link to a module outside the project; the failing
    test's stack goes through it. Secrets files, a private key and a link to .env sit beside."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "shared.py").write_text(SHARED)
    (outside / "other.py").write_text("OTHER = 'OUTSIDE-READ-MARKER'\n")
    (broken / "calc" / "shared.py").symlink_to(outside / "shared.py")
    (broken / "tests" / "test_shared.py").write_text(
        SHARED_TEST + "\n\ndef test_first_of_nothing():\n    assert first([]) is None\n"
    )
    (broken / "calc" / "other.py").symlink_to(outside / "other.py")
    for rel, text in SECRET_FILES.items():
        (broken / rel).parent.mkdir(parents=True, exist_ok=True)
        (broken / rel).write_text(text)
    (broken / ".env").write_text("PAYMENT_KEY=DOTENV-MARKER\n")
    (broken / "ops").mkdir()
    (broken / "ops" / "notes.txt").write_text(private_key("PRIVKEY-MARKER"))
    (broken / "docs").mkdir()
    (broken / "docs" / "settings.txt").symlink_to(Path("..") / ".env")
    git(broken, "add", "calc/shared.py", "calc/other.py", "tests/test_shared.py")
    git(broken, "commit", "-q", "-m", "shared helpers")
    return broken


def markers_in(requests: list[dict]) -> set[str]:
    return {
        m for r in requests for message in r["body"]["messages"] for m in MARKER.findall(message["content"])
    }


def test_fix_loop_reads_nothing_that_must_not_leave(linked: Path, model) -> None:
    asked = [
        "calc/other.py",
        "calc/shared.py",
        *SECRET_FILES,
        ".env",
        "ops/notes.txt",
        "docs/settings.txt",
        "../outside/other.py",
        ".git/config",
    ]
    reads = "".join(f"<<<<<<< READ {path}\n>>>>>>> END\n" for path in asked)
    server = model(
        [
            {"when": {"contains": "asked to READ"}, "reply": RIGHT},
            {"reply": "I need these first.\n\n" + reads},
        ]
    )

    result = run_ai("--fix", "--dry-run", "--json", cwd=linked, env=env_for(server))

    assert result.returncode in (0, 1), result.stderr
    assert "Traceback" not in result.stderr
    chats = server.chat_requests()
    assert chats, result.stdout
    assert markers_in(chats) == set()
    # The failure's own frame file was left out, and the user is told why.
    first = chats[0]["body"]["messages"][-1]["content"]
    assert "calc/shared.py (leads outside the project root through a symlink)" in first
    events = [json.loads(line) for line in result.stdout.splitlines()]
    infos = [e["message"] for e in events if e["event"] == "info"]
    assert any("not sent: calc/shared.py (leads outside" in line for line in infos), infos
    # Each READ is answered with the reason it was not served.
    served = next(r for r in chats if "asked to READ" in r["body"]["messages"][-1]["content"])
    refused = served["body"]["messages"][-1]["content"].split("Not served:")[1]
    for path in asked:
        assert f"- {path}: " in refused, path
    assert "- calc/other.py: leads outside the project root through a symlink" in refused
    assert "- .htpasswd: a secrets file" in refused
    assert "- ops/notes.txt: holds a private key" in refused
    assert "- docs/settings.txt: leads to the secrets file .env" in refused


def test_a_recent_change_to_a_secret_is_not_replayed_to_the_fix(broken: Path, model) -> None:
    """A build the user named .env in may have changed it; the fix loop's prompt carries this session's recent
    diffs, and the .env one is the secret's own lines."""
    from app.session.store import ProjectStore

    env_diff = "--- a/.env\n+++ b/.env\n@@ -1 +1 @@\n-API_KEY=old\n+API_KEY=ENVDIFF-MARKER\n"
    ops_diff = "--- a/calc/ops.py\n+++ b/calc/ops.py\n@@ -1 +1 @@\n-# old\n+# OPSDIFF\n"
    ProjectStore(broken).session("main", activate=True).record_change(
        {
            "id": "c1",
            "summary": "rotate the key and tidy ops",
            "files": [".env", "calc/ops.py"],
            "diffs": {".env": env_diff, "calc/ops.py": ops_diff},
        }
    )
    server = model([{"reply": RIGHT}])
    result = run_ai("--fix", "--dry-run", cwd=broken, env=env_for(server))
    assert result.returncode == 0, result.stderr
    first = server.chat_requests()[0]["body"]["messages"][-1]["content"]
    assert "## c1: rotate the key and tidy ops" in first and "+# OPSDIFF" in first
    assert markers_in(server.chat_requests()) == set()
