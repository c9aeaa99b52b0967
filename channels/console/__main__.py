"""`python -m channels.console`: manage console users from the command line.

    python -m channels.console create-user NAME --role admin   # password asked twice
    echo "$PW" | python -m channels.console create-user NAME --password-stdin
    python -m channels.console set-password NAME
    python -m channels.console disable NAME | enable NAME
    python -m channels.console list-users

Uses the gateway's database (`DATABASE_URL`, `DATABASE_TABLE_PREFIX`).
"""

from __future__ import annotations

import argparse
import getpass
import sys

from channels.console.accounts import ROLES, AccountError, accounts_for
from channels.identity import load_sender_hash_secret
from channels.settings import Settings
from channels.store import MessageStore


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("密码: ")
    if getpass.getpass("再次输入密码: ") != first:
        raise AccountError("两次输入的密码不一致")
    return first


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m channels.console",
                                     description="Manage staff console users.")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("create-user", "set-password"):
        p = sub.add_parser(name)
        p.add_argument("username")
        p.add_argument("--password-stdin", action="store_true",
                       help="read the password from the first line of stdin")
        if name == "create-user":
            p.add_argument("--role", choices=ROLES, default="staff")
    for name in ("disable", "enable"):
        sub.add_parser(name).add_argument("username")
    sub.add_parser("list-users")
    args = parser.parse_args(argv)

    settings = Settings.from_env()
    secret = load_sender_hash_secret(settings.sender_hash_secret,
                                     settings.sender_hash_secret_file)
    store = MessageStore(settings.database_url, table_prefix=settings.database_table_prefix,
                         hash_secret=secret)
    store.create_all()
    acc = accounts_for(store.engine, settings.database_table_prefix)
    try:
        if args.command == "create-user":
            user = acc.create_user(args.username, _password(args), args.role)
            acc.log("cli", "create_user", f"user:{user.username}", f"role:{user.role}")
            print(f"created {user.username} ({user.role})")
        elif args.command == "set-password":
            acc.set_password(args.username, _password(args))
            acc.log("cli", "reset_password", f"user:{args.username}")
            print(f"password changed for {args.username}")
        elif args.command in ("disable", "enable"):
            acc.set_active(args.username, args.command == "enable")
            acc.log("cli", f"{args.command}_user", f"user:{args.username}")
            print(f"{args.command}d {args.username}")
        else:
            for u in acc.list_users():
                print(f"{u.username}\t{u.role}\t{'active' if u.active else 'disabled'}")
    except AccountError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
