"""The password hashing port."""

from __future__ import annotations

from typing import Protocol


class PasswordHasher(Protocol):
    def hash(self, password: str) -> str: ...

    def verify_and_update(self, password: str, password_hash: str) -> tuple[bool, str | None]:
        """Whether the password matches, and a fresh hash when the stored one is outdated
        (an older algorithm or weaker parameters); None when it is current."""
        ...

    def dummy_verify(self) -> None:
        """Spend the time a verification takes, so unknown emails cannot be told apart by timing."""
        ...
