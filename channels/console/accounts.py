"""Console accounts, server-side sessions, the sign-in lock-out and the audit log.

Tables live in the gateway's database next to the message log, named
``<DATABASE_TABLE_PREFIX>console_*``. Session cookies carry a random token; only its
SHA-256 is stored, with the session's CSRF token, so a leaked database does not yield
usable sessions. All methods are synchronous and short (call them via ``asyncio.to_thread``);
none hashes a password except `create_user` / `set_password` (admin actions and the CLI):
sign-in hashing runs on the bounded pool of `channels.console.signin`.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    and_,
    case,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, IntegrityError

from channels.console.config import ConsoleConfig
from channels.console.passwords import DUMMY_HASH, hash_password, password_problem
from channels.store import utcnow

ROLES = ("staff", "admin")
ROLE_NAMES = {"staff": "坐席", "admin": "管理员"}


class AccountError(ValueError):
    """A refused account change; the message is Chinese, fit to show."""


@dataclass(frozen=True)
class User:
    id: int
    username: str
    role: str
    active: bool

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


@dataclass(frozen=True)
class Session:
    user: User
    csrf_token: str
    token_hash: str


@dataclass(frozen=True)
class Attempt:
    """A sign-in attempt counted (reserved) before its password is checked."""

    allowed: bool  # False: this address is locked out for this user name; do not hash
    failures: int  # failures counted for (user name, address), this attempt included
    retry_after_s: float  # when not allowed: until the lock ends
    user: User | None  # None: no such user (verify against DUMMY_HASH all the same)
    stored_hash: str


# An address that signed in as a user within this time is "known" for that user: the
# per-user rate limit does not hold it up (see signin.SignInService).
KNOWN_ADDRESS_S = 30 * 24 * 3600


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Accounts:
    def __init__(self, engine: Engine, config: ConsoleConfig, table_prefix: str = "gw_") -> None:
        self.engine = engine
        self.config = config
        p = f"{table_prefix}console_"
        self.metadata = MetaData()
        self.users = Table(
            f"{p}users", self.metadata,
            Column("id", Integer, primary_key=True, autoincrement=True),
            Column("username", String(64), nullable=False, unique=True),
            Column("password_hash", String(256), nullable=False),
            Column("role", String(16), nullable=False),
            Column("active", Boolean, nullable=False, default=True),
            Column("created_at", DateTime, nullable=False),
        )
        self.sessions = Table(
            f"{p}sessions", self.metadata,
            Column("token_hash", String(64), primary_key=True),
            Column("user_id", Integer, nullable=False, index=True),
            Column("csrf_token", String(64), nullable=False),
            Column("created_at", DateTime, nullable=False),
            Column("last_seen_at", DateTime, nullable=False),
            Column("expires_at", DateTime, nullable=False),
        )
        # One row per (user name, client address): failures since the last success (each
        # attempt is counted here before its password is checked), when the count last
        # moved, and the last successful sign-in from that address.
        self.guard = Table(
            f"{p}signin_guard", self.metadata,
            Column("username", String(64), primary_key=True),
            Column("ip", String(64), primary_key=True),
            Column("failures", Integer, nullable=False),
            Column("counted_at", DateTime, nullable=False, index=True),
            Column("last_ok_at", DateTime, nullable=True),
        )
        self.audit = Table(
            f"{p}audit", self.metadata,
            Column("id", Integer, primary_key=True, autoincrement=True),
            Column("at", DateTime, nullable=False, index=True),
            Column("username", String(64), nullable=False),
            Column("action", String(32), nullable=False),
            Column("target", String(128), nullable=False, default=""),
            Column("detail", Text, nullable=False, default=""),
            Column("ip", String(64), nullable=False, default=""),
        )

    def create_all(self) -> None:
        self.metadata.create_all(self.engine)

    # -- users ----------------------------------------------------------------------------
    def create_user(self, username: str, password: str, role: str = "staff") -> User:
        username = username.strip()
        if not username or len(username) > 64 or any(ch.isspace() for ch in username):
            raise AccountError("用户名须为 1-64 个字符，且不含空格")
        if role not in ROLES:
            raise AccountError("角色只能是 staff（坐席）或 admin（管理员）")
        problem = password_problem(password, username)
        if problem:
            raise AccountError(problem)
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(self.users).values(
                    username=username, password_hash=hash_password(password), role=role,
                    active=True, created_at=utcnow()))
        except IntegrityError as exc:
            raise AccountError("该用户名已存在") from exc
        user = self.get_user_by_name(username)
        assert user is not None
        return user

    def set_password(self, username: str, password: str) -> None:
        problem = password_problem(password, username)
        if problem:
            raise AccountError(problem)
        with self.engine.begin() as conn:
            n = conn.execute(update(self.users).where(self.users.c.username == username)
                             .values(password_hash=hash_password(password))).rowcount
            if n == 0:
                raise AccountError("没有该用户")
            user_id = conn.execute(select(self.users.c.id)
                                   .where(self.users.c.username == username)).scalar_one()
            conn.execute(delete(self.sessions).where(self.sessions.c.user_id == user_id))

    def set_active(self, username: str, active: bool) -> None:
        with self.engine.begin() as conn:
            row = conn.execute(select(self.users).where(self.users.c.username == username)).first()
            if row is None:
                raise AccountError("没有该用户")
            conn.execute(update(self.users).where(self.users.c.id == row.id).values(active=active))
            if not active:
                conn.execute(delete(self.sessions).where(self.sessions.c.user_id == row.id))

    def get_user_by_name(self, username: str) -> User | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(self.users).where(self.users.c.username == username)).first()
        return _user(row) if row is not None else None

    def list_users(self) -> list[User]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(self.users).order_by(self.users.c.username)).all()
        return [_user(r) for r in rows]

    def has_admin(self) -> bool:
        with self.engine.connect() as conn:
            n = conn.execute(select(func.count()).select_from(self.users).where(
                self.users.c.role == "admin", self.users.c.active.is_(True))).scalar_one()
        return n > 0

    def bootstrap_admin(self) -> User | None:
        """Create the first admin from CONSOLE_ADMIN_USER / _PASSWORD when none exists."""
        cfg = self.config
        if not (cfg.admin_user and cfg.admin_password) or self.has_admin():
            return None
        existing = self.get_user_by_name(cfg.admin_user)
        if existing is not None:
            return None
        try:
            user = self.create_user(cfg.admin_user, cfg.admin_password, "admin")
        except AccountError:
            if self.get_user_by_name(cfg.admin_user) is not None:
                return None  # created by another worker process at the same moment
            raise
        self.log(user.username, "create_admin", user.username, "CONSOLE_ADMIN_USER")
        return user

    # -- sign-in and lock-out ---------------------------------------------------------------
    def begin_attempt(self, username: str, ip: str) -> Attempt:
        """Count a sign-in attempt for (user name, address) before its password is checked.

        Why keyed by address too: a lock-out per user name alone lets anyone lock the
        admin out at will by failing on purpose. Here failures lock only the address they
        came from (for that user name); the admin elsewhere still signs in. What stops a
        spray from many addresses is the per-user and per-address rate limits in
        `signin.SignInService`, checked before this.

        Why counted first: the count is one atomic upsert (``INSERT ... ON CONFLICT DO
        UPDATE ... RETURNING``; SQLite serialises writers, PostgreSQL locks the row), so
        concurrent guesses each get their own number and only the first `lockout_threshold`
        go on to the password check, however they interleave. A success resets the count
        (`attempt_succeeded`); an attempt the hashing pool could not take is given back
        (`attempt_abandoned`). The lock lasts `lockout_s` from the attempt that reached the
        threshold; attempts while locked neither hash nor extend it.
        """
        cfg = self.config
        g = self.guard.c
        now = utcnow()
        stale = g.counted_at < now - timedelta(seconds=cfg.lockout_s)
        full = g.failures >= cfg.lockout_threshold
        stmt = self._upsert(self.guard).values(
            username=username, ip=ip, failures=1, counted_at=now, last_ok_at=None)
        stmt = stmt.on_conflict_do_update(
            index_elements=[g.username, g.ip],
            set_={"failures": case((stale, 1), else_=g.failures + 1),
                  "counted_at": case((stale, now), (full, g.counted_at), else_=now)},
        ).returning(g.failures, g.counted_at)
        with self.engine.begin() as conn:
            failures, counted_at = conn.execute(stmt).one()
            if failures == 1:  # a new or expired row: forget what expired meanwhile
                self._prune(conn, now)
            row = conn.execute(select(self.users).where(self.users.c.username == username)).first()
        allowed = failures <= cfg.lockout_threshold
        retry = 0.0 if allowed else max(
            (counted_at + timedelta(seconds=cfg.lockout_s) - now).total_seconds(), 1.0)
        user = _user(row) if row is not None else None
        return Attempt(allowed, failures, retry, user,
                       row.password_hash if row is not None else DUMMY_HASH)

    def attempt_succeeded(self, username: str, ip: str) -> None:
        g = self.guard.c
        now = utcnow()
        with self.engine.begin() as conn:
            conn.execute(update(self.guard).where(g.username == username, g.ip == ip)
                         .values(failures=0, counted_at=now, last_ok_at=now))

    def attempt_abandoned(self, username: str, ip: str) -> None:
        """Give back a counted attempt whose password was never checked."""
        g = self.guard.c
        with self.engine.begin() as conn:
            conn.execute(update(self.guard)
                         .where(g.username == username, g.ip == ip, g.failures > 0)
                         .values(failures=g.failures - 1))

    def is_known_address(self, username: str, ip: str) -> bool:
        """Has `username` signed in successfully from `ip` within KNOWN_ADDRESS_S?"""
        g = self.guard.c
        since = utcnow() - timedelta(seconds=KNOWN_ADDRESS_S)
        with self.engine.connect() as conn:
            return conn.execute(select(g.username).where(
                g.username == username, g.ip == ip, g.last_ok_at > since)).first() is not None

    def replace_hash(self, user_id: int, old_hash: str, new_hash: str) -> None:
        """Store a re-computed hash (raised cost), unless the password changed meanwhile."""
        u = self.users.c
        with self.engine.begin() as conn:
            conn.execute(update(self.users).where(u.id == user_id, u.password_hash == old_hash)
                         .values(password_hash=new_hash))

    def _upsert(self, table: Table) -> Any:
        dialect = self.engine.dialect.name
        if dialect == "postgresql":
            return postgresql.insert(table)
        if dialect == "sqlite":
            return sqlite.insert(table)
        raise RuntimeError(f"console sign-in needs SQLite or PostgreSQL, not {dialect}")

    def _prune(self, conn: Any, now: datetime) -> None:
        g = self.guard.c
        expired = g.counted_at < now - timedelta(seconds=self.config.lockout_s)
        forgotten = or_(g.last_ok_at.is_(None),
                        g.last_ok_at < now - timedelta(seconds=KNOWN_ADDRESS_S))
        conn.execute(delete(self.guard).where(and_(expired, forgotten)))

    def create_session(self, user: User) -> str:
        """A new session for `user`; returns the cookie token (only its hash is stored)."""
        token = secrets.token_urlsafe(32)
        now = utcnow()
        with self.engine.begin() as conn:
            conn.execute(insert(self.sessions).values(
                token_hash=_token_hash(token), user_id=user.id,
                csrf_token=secrets.token_urlsafe(32), created_at=now, last_seen_at=now,
                expires_at=now + timedelta(seconds=self.config.session_ttl_s)))
            conn.execute(delete(self.sessions).where(self.sessions.c.expires_at < now))
        return token

    # -- sessions ---------------------------------------------------------------------------
    def session(self, token: str | None) -> Session | None:
        """The live session for a cookie token (and touch it), or None."""
        if not token or len(token) > 128:
            return None
        h = _token_hash(token)
        s, u = self.sessions.c, self.users.c
        now = utcnow()
        with self.engine.connect() as conn:
            row = conn.execute(
                select(s.token_hash, s.csrf_token, s.last_seen_at, s.expires_at, u.id, u.username,
                       u.role, u.active)
                .join_from(self.sessions, self.users, s.user_id == u.id)
                .where(s.token_hash == h)).first()
        if row is None:
            return None
        idle_limit = row.last_seen_at + timedelta(seconds=self.config.idle_timeout_s)
        if row.expires_at < now or idle_limit < now or not row.active:
            self.end_session(token)
            return None
        if (now - row.last_seen_at).total_seconds() > 30:
            with self.engine.begin() as conn:
                conn.execute(update(self.sessions).where(s.token_hash == h)
                             .values(last_seen_at=now))
        user = User(id=row.id, username=row.username, role=row.role, active=row.active)
        return Session(user=user, csrf_token=row.csrf_token, token_hash=h)

    def end_session(self, token: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(self.sessions).where(
                self.sessions.c.token_hash == _token_hash(token)))

    # -- audit ------------------------------------------------------------------------------
    def log(self, username: str, action: str, target: str = "", detail: str = "",
            ip: str = "") -> None:
        with self.engine.begin() as conn:
            conn.execute(insert(self.audit).values(
                at=utcnow(), username=username[:64], action=action[:32], target=target[:128],
                detail=detail[:2000], ip=ip[:64]))

    def audit_entries(self, limit: int = 200, action: str | None = None) -> list[dict[str, Any]]:
        q = select(self.audit).order_by(self.audit.c.id.desc()).limit(limit)
        if action:
            q = q.where(self.audit.c.action == action)
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(q)]


def _user(row: Any) -> User:
    return User(id=row.id, username=row.username, role=row.role, active=bool(row.active))


def accounts_for(engine: Engine, table_prefix: str, config: ConsoleConfig | None = None,
                 ) -> Accounts:
    accounts = Accounts(engine, config or ConsoleConfig.from_env(), table_prefix)
    for attempt in range(5):
        try:
            accounts.create_all()
            break
        except DBAPIError:  # another worker process is creating the same tables right now
            if attempt == 4:
                raise
            time.sleep(0.2 * (attempt + 1))
    return accounts
