"""An in-memory credential store for tests of ``kiosk.credentials``: the real ``keyring``
API, with a back end that keeps passwords in a dict (the ``memory_keyring`` fixture in
tests/conftest.py; every other test has no store at all, so none touches a developer's own
keyring)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError


class MemoryKeyring(KeyringBackend):
    """A credential store in this process's memory, as a desktop's would be across runs."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.passwords: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.passwords.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.passwords[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.passwords.pop((service, username), None) is None:
            raise PasswordDeleteError(username)


ENV_FILE = "KIOSK_TEST_KEYRING_FILE"


class FileKeyring(MemoryKeyring):
    """The same, kept in the JSON file ``KIOSK_TEST_KEYRING_FILE`` names, for tests that start
    the real app twice (``PYTHON_KEYRING_BACKEND=tests.keyring_support.FileKeyring``): a
    store that outlives the process, as a desktop's does. ``asked`` lists every account read,
    so a test sees that the app went to the store for the password."""

    def __init__(self) -> None:
        super().__init__()
        self.path = Path(os.environ[ENV_FILE])
        self.asked: list[str] = []
        if self.path.exists():
            saved = json.loads(self.path.read_text(encoding="utf-8"))
            self.passwords = {(s, u): p for s, u, p in saved["passwords"]}
            self.asked = list(saved["asked"])

    def _save(self) -> None:
        passwords = [[s, u, p] for (s, u), p in self.passwords.items()]
        self.path.write_text(json.dumps({"passwords": passwords, "asked": self.asked}))

    def get_password(self, service: str, username: str) -> str | None:
        self.asked.append(username)
        self._save()
        return super().get_password(service, username)

    def set_password(self, service: str, username: str, password: str) -> None:
        super().set_password(service, username, password)
        self._save()
