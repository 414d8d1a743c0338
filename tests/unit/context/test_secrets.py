"""The one secrets rule (app/project/secrets.py): which paths are secrets by name, folder components
included, and which contents are plainly a private key. Everything that sends or shows a file asks it."""

from __future__ import annotations

import pytest

from app.project.secrets import holds_private_key, is_secret

SECRET_PATHS = [
    ".env",
    "config/.env.production",
    ".env.local",
    ".ENV",
    "prod.env",
    "deploy/Staging.ENV",
    ".envrc",
    "deploy/server.pem",
    "certs/server.key",
    "keys/signing.p12",
    "keys/signing.pfx",
    "android/release.keystore",
    "android/release.jks",
    "putty/me.ppk",
    "home/id_rsa",
    "id_ed25519.pub",
    "id_ecdsa",
    ".ssh/deploy",
    ".ssh/known_hosts",
    ".docker/config.json",
    "ops/.docker/config.json",
    ".dockercfg",
    ".aws/credentials",
    ".aws/config",
    ".config/gcloud/application_default_credentials.json",
    ".config/gcloud/legacy_credentials/me@example.com/adc.json",
    ".azure/accessTokens.json",
    ".kube/config",
    ".netrc",
    "_netrc",
    ".npmrc",
    "web/.npmrc",
    ".pypirc",
    ".pgpass",
    ".htpasswd",
    "site/.htpasswd",
    ".my.cnf",
    ".git-credentials",
    ".config/git/credentials",
    ".cargo/credentials.toml",
    "credentials.json",
    "config/credentials-prod.json",
    "CREDENTIALS.JSON",
    "client_secret_1234.apps.googleusercontent.com.json",
    "secrets.yaml",
    "config/secrets.json",
    "settings/secrets.py",
    "app.secret",
    "infra/terraform.tfstate",
    "infra/terraform.tfstate.backup",
    ".vault-token",
]

NOT_SECRET_PATHS = [
    "environment.py",
    "keyboard.py",
    "keys.py",
    "app/key.py",
    "envelope.py",
    "environment.yml",
    "env.py",
    "app/env/settings.py",
    "README.md",
    ".env.example",
    ".env.sample",
    "config/.env.template",
    "example.env",
    "secrets.example.yaml",
    "credentials.py",
    "app/credentials/store.py",
    "docs/secrets.md",
    "monkey.py",
    "tokenizer.py",
    "id_card.py",
    "docker/config.json",
    "kube/config.yaml",
    ".github/workflows/ci.yml",
    "ssh/client.py",
    "passwords_test.go",
]


@pytest.mark.parametrize("path", SECRET_PATHS)
def test_secrets_by_name(path: str) -> None:
    assert is_secret(path)
    assert is_secret("./" + path) and is_secret(path.replace("/", "\\"))


@pytest.mark.parametrize("path", NOT_SECRET_PATHS)
def test_code_and_templates_are_not_secrets(path: str) -> None:
    assert not is_secret(path)


BODY = "MIIEpAIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\n" * 3


@pytest.mark.parametrize(
    "text",
    [
        f"-----BEGIN RSA PRIVATE KEY-----\n{BODY}-----END RSA PRIVATE KEY-----\n",
        f"notes\n-----BEGIN OPENSSH PRIVATE KEY-----\n{BODY}",
        f"-----BEGIN ENCRYPTED PRIVATE KEY-----\n{BODY}",
        "-----BEGIN EC PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,ABCDEF\n\n" + BODY,
        '{"private_key": "-----BEGIN PRIVATE KEY-----\\n' + BODY.replace("\n", "\\n") + '"}',
        f"-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n{BODY}",
    ],
)
def test_a_private_key_in_any_file_is_seen(text: str) -> None:
    assert holds_private_key(text.encode())


@pytest.mark.parametrize(
    "text",
    [
        'if line.startswith("-----BEGIN RSA PRIVATE KEY-----"):\n    return True\n',
        f"-----BEGIN PUBLIC KEY-----\n{BODY}-----END PUBLIC KEY-----\n",
        f"-----BEGIN CERTIFICATE-----\n{BODY}-----END CERTIFICATE-----\n",
        "def private_key(): ...\n",
    ],
)
def test_code_about_keys_and_public_keys_are_not_private_keys(text: str) -> None:
    assert not holds_private_key(text.encode())
