"""Console passwords (issue 12, Low): scrypt cost raised with old hashes still accepted and
upgraded at sign-in; the OWASP ASVS L1 policy (12+ characters, no composition rules, a
breached-password check against the bundled list)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import secrets
from pathlib import Path

import pytest
from sqlalchemy import select, update

from channels.console.accounts import AccountError, accounts_for
from channels.console.config import ConsoleConfig
from channels.console.passwords import hash_password, password_problem, verify_password
from channels.store import MessageStore
from tests.channels.support import client, serve
from tests.console.support import ADMIN, console_app, console_env, sign_in


def _params(stored: str) -> tuple[int, int, int]:
    scheme, n, r, p, _salt, _digest = stored.split("$")
    assert scheme == "scrypt"
    return int(n), int(r), int(p)


def _old_hash(password: str) -> str:
    """A hash as the console stored it before issue 12 (N=2^14, r=8, p=1)."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32)
    b64 = base64.b64encode
    return f"scrypt${2**14}$8$1${b64(salt).decode()}${b64(digest).decode()}"


def test_new_hashes_use_the_raised_scrypt_cost() -> None:
    n, r, p = _params(hash_password("Tulip-river-2026"))
    assert n >= 2**16 and r == 8 and p == 1


def test_old_cost_hashes_still_verify_and_are_upgraded_at_sign_in(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    console_env(monkeypatch, tmp_path)
    app = console_app(tmp_path)

    async def main() -> None:
        async with serve(app) as base, client(base) as http:
            acc = app.ctx.console_accounts
            users = acc.users
            with acc.engine.begin() as conn:
                conn.execute(update(users).where(users.c.username == ADMIN[0])
                             .values(password_hash=_old_hash(ADMIN[1])))
            assert (await sign_in(http, ADMIN)).status_code == 302
            with acc.engine.connect() as conn:
                stored = conn.execute(select(users.c.password_hash)
                                      .where(users.c.username == ADMIN[0])).scalar_one()
            assert _params(stored)[0] >= 2**16
            assert verify_password(ADMIN[1], stored)
            http.cookies.clear()
            assert (await sign_in(http, ADMIN)).status_code == 302

    asyncio.run(main())


@pytest.mark.parametrize("password, why", [
    ("Abcdef-1234", "至少需要 12 个字符"),  # 11 characters
    ("short   pass", "至少需要 12 个字符"),  # runs of spaces count once
    ("qwerty123456", "常见"),  # in the breached list
    ("QWERTY123456", "常见"),  # whatever the case
    ("Password2026!", "常见"),  # a listed password with digits and symbols around it
    ("aaaaaaaaaaaaaaa", "单一"),
    ("x" * 129, "不能超过 128"),
])
def test_weak_passwords_are_refused(password: str, why: str) -> None:
    problem = password_problem(password)
    assert problem is not None and why in problem, (password, problem)


@pytest.mark.parametrize("password", [
    "mountainrivertulip",  # no composition rules (ASVS 2.1.9): a long passphrase is fine
    "会宁县医保局热线工作台二〇二六",  # any Unicode
    "Tulip-river-2026",
    ADMIN[1],
])
def test_strong_passwords_are_accepted(password: str) -> None:
    assert password_problem(password) is None


def test_password_may_not_contain_the_user_name(tmp_path: Path) -> None:
    store = MessageStore(f"sqlite:///{tmp_path}/db.sqlite", hash_secret="k")
    store.create_all()
    acc = accounts_for(store.engine, "gw_", ConsoleConfig())
    with pytest.raises(AccountError, match="用户名"):
        acc.create_user("liuwei", "Liuwei-hotline-2026")
    with pytest.raises(AccountError, match="至少需要 12"):
        acc.create_user("zhangmin", "Zhang-2026x")
    assert acc.create_user("zhangmin", "Hotline-desk-2026").username == "zhangmin"


def test_the_breached_list_is_bundled_with_its_origin() -> None:
    from channels.console import common_passwords

    assert len(common_passwords.load()) >= 10_000
    readme = (common_passwords.LIST_PATH.parent / "README.md").read_text()
    assert "Django" in readme and "BSD" in readme
