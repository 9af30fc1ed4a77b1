"""Registering users and authenticating them by password."""

from __future__ import annotations

import asyncio
import uuid

import attrs

from tenantrag.domain import validation as v
from tenantrag.domain.errors import AuthenticationFailed, Conflict, InvalidInput, NotFound
from tenantrag.domain.model.ids import new_id
from tenantrag.domain.model.user import MAX_PASSWORD_LENGTH, User, check_new_password, normalise_email
from tenantrag.domain.ports.passwords import PasswordHasher
from tenantrag.domain.usecases.base import Service, as_id

_BAD_LOGIN = "invalid email or password"


@attrs.define
class UserService(Service):
    hasher: PasswordHasher

    async def register(
        self,
        *,
        email: str,
        password: str | None = None,
        full_name: str = "",
        is_superuser: bool = False,
    ) -> User:
        """Create a user; without a password the user can only act through API keys."""
        now = self.clock.now()
        user = User(
            id=new_id(),
            email=normalise_email(email),
            full_name=full_name,
            password_hash=None if password is None else await asyncio.to_thread(self.hasher.hash, password),
            is_superuser=is_superuser,
            created_at=now,
            updated_at=now,
        )
        async with self.uow.system() as uow:
            if await uow.users.get_by_email(user.email) is not None:
                raise Conflict(f"a user with email {user.email!r} already exists")
            await uow.users.add(user)
            await uow.commit()
        return user

    async def authenticate(self, *, email: str, password: str) -> User:
        """The user whose password this is; upgrades an outdated hash on the way.

        Every failure looks the same, and an unknown email still spends the time of
        a verification, so callers cannot probe which emails exist. Hashing runs in a worker
        thread (Argon2 releases the GIL): many logins at once must not hold the event loop.
        """
        try:
            normalised = normalise_email(email)
            v.text("password", password, max_length=MAX_PASSWORD_LENGTH)
        except Exception:
            await asyncio.to_thread(self.hasher.dummy_verify)
            raise AuthenticationFailed(_BAD_LOGIN) from None
        async with self.uow.system() as uow:
            found = await uow.users.get_by_email(normalised)
        # No transaction is held while Argon2 works.
        if found is None or found.password_hash is None:
            await asyncio.to_thread(self.hasher.dummy_verify)
            raise AuthenticationFailed(_BAD_LOGIN)
        valid, new_hash = await asyncio.to_thread(
            self.hasher.verify_and_update, password, found.password_hash
        )
        if not valid or not found.is_active:
            raise AuthenticationFailed(_BAD_LOGIN)
        async with self.uow.system() as uow:
            user = await uow.users.get(found.id)
            if user is None or not user.is_active or user.password_hash != found.password_hash:
                raise AuthenticationFailed(_BAD_LOGIN)  # deleted, suspended or re-keyed meanwhile
            now = self.clock.now()
            user = attrs.evolve(
                user, password_hash=new_hash or user.password_hash, last_login_at=now, updated_at=now
            )
            await uow.users.update(user)
            await uow.commit()
        return user

    async def get(self, user_id: uuid.UUID | str) -> User:
        ident = as_id("user_id", user_id)
        async with self.uow.system() as uow:
            user = await uow.users.get(ident)
        if user is None:
            raise NotFound("user", ident)
        return user

    async def get_by_email(self, email: str) -> User:
        normalised = normalise_email(email)
        async with self.uow.system() as uow:
            user = await uow.users.get_by_email(normalised)
        if user is None:
            raise NotFound("user", normalised)
        return user

    async def change_password(
        self, user_id: uuid.UUID | str, *, current_password: str, new_password: str
    ) -> User:
        """A user's own password change: the current password must be given, and right."""
        ident = as_id("user_id", user_id)
        v.text("current_password", current_password, max_length=MAX_PASSWORD_LENGTH)
        check_new_password("new_password", new_password)
        async with self.uow.system() as uow:
            found = await uow.users.get(ident)
        if found is None:
            raise NotFound("user", ident)
        if found.password_hash is None:
            raise InvalidInput("current_password", "this user has no password (it acts through API keys)")
        # Argon2 in a worker thread, with no transaction open.
        valid, _ = await asyncio.to_thread(
            self.hasher.verify_and_update, current_password, found.password_hash
        )
        if not valid:
            raise InvalidInput("current_password", "is not the current password")
        new_hash = await asyncio.to_thread(self.hasher.hash, new_password)
        async with self.uow.system() as uow:
            user = await uow.users.get(ident)
            if user is None or user.password_hash != found.password_hash:
                raise Conflict("the password was changed meanwhile; try again")
            user = attrs.evolve(user, password_hash=new_hash, updated_at=self.clock.now())
            await uow.users.update(user)
            await uow.commit()
        return user
