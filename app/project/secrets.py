"""The one secrets rule: which files of a project are never indexed, searched, shown or sent to the model unless
the user names them (or turns ``send_secrets`` on). The index, ``--search``, pre-reading, READ, the fix loop and
the edit engine's error messages all ask ``is_secret``; the guarded reader (app/project/reader.py) applies it.

It decides by the path, folder components included: ``.docker/config.json`` holds registry passwords while a
project's ``docker/config.json`` is its own code, and everything under ``.ssh/`` or ``.aws/`` is a credential
whatever its name. Code is not a secret because of a word in its name (``environment.py``, ``keyboard.py``,
``credentials.py``), and templates (``.env.example``, ``secrets.sample.yaml``) exist to be shared.

Its twin looks at content: ``holds_private_key`` sees a file that is plainly a private key (a ``-----BEGIN ...
PRIVATE KEY-----`` line with a key body after it) whatever the file is called; it is treated like a secrets file
wherever a file is read for the model or indexed.
"""

from __future__ import annotations

import re

# Folders whose every file is a credential of the tool that keeps it there.
_SECRET_DIRS = frozenset({".ssh", ".aws", ".azure", ".gnupg", ".password-store", ".secrets", "secrets"})
# Folder sequences (outermost first) whose every file is a credential: gcloud keeps tokens and keys in many
# differently named files there.
_SECRET_DIR_SEQUENCES = ((".config", "gcloud"),)
# The last components of a credential's path: the folder alone is often the project's own (Dockerfiles under
# `.docker/`, manifests under `.kube/`).
_SECRET_TAILS = (
    (".docker", "config.json"),
    (".kube", "config"),
    (".config", "gh", "hosts.yml"),  # the GitHub CLI's tokens
    (".m2", "settings-security.xml"),
)
_SECRET_NAMES = frozenset(
    {
        ".env",
        ".envrc",
        ".netrc",
        "_netrc",
        ".npmrc",
        ".pypirc",
        ".pgpass",
        ".htpasswd",
        ".git-credentials",
        ".my.cnf",
        ".dockercfg",
        ".vault-token",
        ".boto",
        ".s3cfg",
        "credentials",  # .aws/credentials, .config/git/credentials, .gem/credentials, .cargo/credentials
    }
)
_SSH_KEY_PREFIXES = ("id_rsa", "id_dsa", "id_ecdsa", "id_ed25519")
_SECRET_SUFFIXES = (
    ".pem",
    ".key",
    ".p12",
    ".pfx",
    ".jks",
    ".keystore",
    ".ppk",
    ".secret",
    ".secrets",
    ".env",
    ".htpasswd",
    ".tfstate",
    ".tfstate.backup",  # terraform state holds every resource's passwords in plain text
)
# `credentials-prod.json`, `credentials.yaml`: data, while `credentials.py` is code that handles them.
_CREDENTIAL_DATA = frozenset(
    {"json", "yaml", "yml", "toml", "ini", "cfg", "conf", "xml", "txt", "properties", "db"}
)
# `secrets.md` explains how secrets are handled; any other `secrets.*` holds them.
_DOCUMENTATION = frozenset({"md", "rst", "adoc"})
# A name with one of these among its dotted parts is a template to copy, shared on purpose.
_TEMPLATE_MARKERS = frozenset({"example", "examples", "sample", "template", "dist", "tmpl", "tpl"})


def _parts(path: str) -> list[str]:
    return [part for part in path.replace("\\", "/").lower().split("/") if part not in ("", ".")]


def is_secret(path: str) -> bool:
    """Whether ``path`` (relative to the project, either slash) names a secrets file."""
    parts = _parts(path)
    if not parts:
        return False
    folders, name = parts[:-1], parts[-1]
    if _SECRET_DIRS.intersection(folders):
        return True
    for sequence in _SECRET_DIR_SEQUENCES:
        width = len(sequence)
        if any(tuple(folders[i : i + width]) == sequence for i in range(len(folders) - width + 1)):
            return True
    if any(tuple(parts[-len(tail) :]) == tail for tail in _SECRET_TAILS):
        return True
    dotted = name.split(".")
    if _TEMPLATE_MARKERS.intersection(dotted):
        return False
    if name in _SECRET_NAMES or name.startswith(_SSH_KEY_PREFIXES) or name.endswith(_SECRET_SUFFIXES):
        return True
    if name.startswith(".env."):
        return True
    extension = dotted[-1] if len(dotted) > 1 else ""
    if name.startswith("credentials") and extension in _CREDENTIAL_DATA:
        return True
    if name.startswith("client_secret") and extension == "json":
        return True
    return name.startswith("secrets.") and extension not in _DOCUMENTATION


# The armour line of a private key (PKCS#1/#8, OpenSSH, EC, DSA, encrypted, PGP), then the key body: a run of
# base64 within the next few lines (after optional headers such as Proc-Type). Code that only mentions the
# armour line has no such body after it; a key inside JSON has its newlines escaped, which the run skips.
_PRIVATE_KEY = re.compile(
    rb"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----.{0,400}?[A-Za-z0-9+/]{40}", re.DOTALL
)


def holds_private_key(data: bytes) -> bool:
    """Whether ``data`` (a file's bytes) is, or holds, a private key."""
    return b"PRIVATE KEY" in data and _PRIVATE_KEY.search(data) is not None
