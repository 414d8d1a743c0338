"""What must not leave never reaches the model in a build: files outside the project (through a symlink to a
file or to a folder), secrets files by every name the one rule knows, a file that holds a private key, and a
link inside the project that leads to a secrets file. Each file holds a marker; no request the scripted model
server received may carry one. A secrets file the goal names is still sent (the user asked for it)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import git
from tests.integration.pipeline.conftest import (
    FIX_SUBTRACT,
    ai_build,
    all_text,
    build_in_process,
    first_user_message,
)

# Secrets files by name (the marker is in each one's content); none of them is sent unless the goal names it.
SECRET_FILES = {
    ".docker/config.json": '{"auths": {"registry.example.com": {"auth": "DOCKER-MARKER"}}}\n',
    ".htpasswd": "admin:$apr1$HTPASSWD-MARKER\n",
    ".pgpass": "db.example.com:5432:shop:admin:PGPASS-MARKER\n",
    ".netrc": "machine api.example.com login me password NETRC-MARKER\n",
    ".npmrc": "//registry.example.com/:_authToken=NPMRC-MARKER\n",
    ".pypirc": "[pypi]\npassword = PYPIRC-MARKER\n",
    ".git-credentials": "https://me:GITCRED-MARKER@example.com\n",
    ".aws/credentials": "[default]\naws_secret_access_key = AWS-MARKER\n",
    ".kube/config": "users:\n- name: me\n  user:\n    token: KUBE-MARKER\n",
    ".config/gcloud/application_default_credentials.json": '{"refresh_token": "GCLOUD-MARKER"}\n',
    ".ssh/deploy": "SSH-MARKER\n",
    ".env.local": "API_KEY=ENVLOCAL-MARKER\n",
    "deploy/prod.env": "DB_PASSWORD=PRODENV-MARKER\n",
    "config/credentials.json": '{"client_secret": "CREDJSON-MARKER"}\n',
    "config/secrets.yaml": "token: SECRETSYAML-MARKER\n",
    "certs/server.key": "KEYFILE-MARKER\n",
}


def private_key(marker: str) -> str:
    """A file that is plainly a private key (not a real one: the body is filler around the marker)."""
    body = "\n".join(["MIIEpAIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun"] * 4)
    return f"-----BEGIN RSA PRIVATE KEY-----\n{body}\n{marker}\n-----END RSA PRIVATE KEY-----\n"


@pytest.fixture
def leaky(calc_project: Path, tmp_path: Path) -> Path:
    """The calculator project with secrets files, a private key in a plain text file, links that lead out of
    the project (to a file and to a folder) and a link inside it to the .env file."""
    root = calc_project
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "private.py").write_text("TOKEN = 'OUTSIDE-FILE-MARKER'\n")
    (outside / "lib").mkdir()
    (outside / "lib" / "vendored.py").write_text("TOKEN = 'OUTSIDE-DIR-MARKER'\n")
    for rel, text in SECRET_FILES.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    (root / ".env").write_text("PAYMENT_KEY=DOTENV-MARKER\n")
    (root / "ops").mkdir()
    (root / "ops" / "notes.txt").write_text(private_key("PRIVKEY-MARKER"))
    (root / "calc" / "linked.py").symlink_to(outside / "private.py")
    (root / "vendor").symlink_to(outside / "lib")
    (root / "docs").mkdir()
    (root / "docs" / "settings.txt").symlink_to(Path("..") / ".env")
    return root


def markers(*texts: str) -> set[str]:
    return {m for text in texts for m in re.findall(r"[A-Z]+(?:-[A-Z]+)*-MARKER", text)}


EVERY_MARKER = markers(
    *SECRET_FILES.values(), "OUTSIDE-FILE-MARKER OUTSIDE-DIR-MARKER DOTENV-MARKER PRIVKEY-MARKER"
)


def leaked(requests: list[dict], candidates: set[str] = EVERY_MARKER) -> set[str]:
    """The markers found in any message of any request the model server received."""
    text = "\n".join(all_text(r) for r in requests)
    return {m for m in candidates if m in text}


def test_read_never_serves_what_must_not_leave(leaky: Path, model_server) -> None:
    outside = leaky.parent / "outside"
    asked = [
        *SECRET_FILES,
        ".env",
        "ops/notes.txt",
        "calc/linked.py",
        "vendor/vendored.py",
        "docs/settings.txt",
        "../outside/private.py",
        str(outside / "private.py"),
        ".git/config",
    ]
    reads = "".join(f"<<<<<<< READ {path}\n>>>>>>> END\n" for path in asked)
    server = model_server(
        [
            {"when": {"contains": "asked to READ"}, "reply": FIX_SUBTRACT},
            {"reply": "I need these first.\n" + reads},
        ]
    )
    result = ai_build(leaky, server.base_url, "--build", "fix subtract in calc/ops.py", "--yes")
    assert result.returncode == 0, result.stderr
    chats = server.chat_requests()
    assert len(chats) == 2
    assert leaked(chats) == set()
    # The model is told, path by path, why each one was not served.
    reply = first_user_message(chats[1])
    refused = reply.split("Not served:")[1]
    for path in asked:
        assert f"- {path}: " in refused, path
    assert "- .docker/config.json: a secrets file" in refused
    assert "- ops/notes.txt: holds a private key" in refused
    assert "- calc/linked.py: leads outside the project root through a symlink" in refused
    assert "- vendor/vendored.py: leads outside the project root through a symlink" in refused
    assert "- docs/settings.txt: leads to the secrets file .env" in refused
    assert "return a - b" in (leaky / "calc" / "ops.py").read_text()


REGISTRY = "import os\n\n\ndef registry_token():\n    return os.environ.get('REGISTRY')\n"


async def test_search_hits_and_repo_map_carry_no_line_of_a_secret(leaky: Path, model_server) -> None:
    files = {
        "calc/registry.py": REGISTRY,
        ".docker/config.json": '{"auths": {"r.example.com": {"registry_token": "REGDOCKER-MARKER"}}}\n',
        "settings/secrets.py": 'registry_token = "SECRETSPY-MARKER"\n',
        "config/credentials.json": '{"registry_token": "REGCRED-MARKER"}\n',
        "deploy/prod.env": "registry_token=REGENV-MARKER\n",
        "ops/notes.txt": "registry_token: see below REGNOTES-MARKER\n" + private_key("PRIVKEY-MARKER"),
    }
    for rel, text in files.items():
        (leaky / rel).parent.mkdir(parents=True, exist_ok=True)
        (leaky / rel).write_text(text)
    server = model_server([{"reply": FIX_SUBTRACT}])
    code, _out, err = await build_in_process(
        leaky, server, "make calc/registry.py read registry_token from a file"
    )
    assert code == 0, err
    chats = server.chat_requests()
    text = first_user_message(chats[0])
    assert REGISTRY in text  # the named file goes whole, and search hits and the map are there
    assert "## Search hits" in text and "## Repo map" in text
    assert leaked(chats, EVERY_MARKER | markers(*files.values())) == set()


async def test_a_secrets_file_the_goal_names_is_sent_and_a_link_out_never(leaky: Path, model_server) -> None:
    server = model_server([{"reply": FIX_SUBTRACT}])
    code, out, err = await build_in_process(leaky, server, "document the keys of .docker/config.json")
    assert code == 0, err
    assert "DOCKER-MARKER" in first_user_message(server.chat_requests()[0])

    server = model_server([{"reply": FIX_SUBTRACT}])
    goal = "explain calc/linked.py, vendor/vendored.py and docs/settings.txt"
    code, out, err = await build_in_process(leaky, server, goal)
    assert code == 0, err
    assert leaked(server.chat_requests()) == set()
    # The user is told why each named file was not sent.
    assert "not sent: calc/linked.py: leads outside the project root through a symlink" in out
    assert "not sent: vendor/vendored.py: leads outside the project root through a symlink" in out
    assert "not sent: docs/settings.txt: leads to the secrets file .env" in out


def test_named_secret_files_are_found_by_their_bare_name(leaky: Path, model_server) -> None:
    git(leaky, "add", "-f", "deploy/prod.env")
    git(leaky, "commit", "-q", "-m", "deploy settings")
    server = model_server([{"reply": FIX_SUBTRACT}])
    result = ai_build(leaky, server.base_url, "--build", "document what prod.env sets", "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "PRODENV-MARKER" in first_user_message(server.chat_requests()[0])


def test_an_edit_of_a_secret_that_misses_quotes_none_of_its_lines(leaky: Path, model_server) -> None:
    """A wrong anchor makes the edit engine's error quote the nearest lines of the file, and that error goes
    back to the model: for a secrets file or a private key it must not quote any."""
    near_misses = {  # anchors close to a line of the file, as a model guessing at it would write
        ".docker/config.json": '{"auths": {"registry.example.com": {"auth": "GUESS"}}}\n',
        "ops/notes.txt": "-----BEGIN RSA PRIVATE KEY-----\nGUESS\n",
    }
    for path, anchor in near_misses.items():
        block = f"<<<<<<< REPLACE {path}\n{anchor}=======\nx\n>>>>>>> END\n"
        server = model_server([{"reply": "Editing.\n" + block}])
        result = ai_build(leaky, server.base_url, "--build", "fix subtract in calc/ops.py", "--dry-run")
        assert result.returncode == 1
        chats = server.chat_requests()
        assert len(chats) == 2  # the error went back once
        feedback = first_user_message(chats[1])
        assert f"the anchor was not found in {path}" in feedback
        assert "its lines are not quoted" in feedback
        assert leaked(chats) == set()
