"""Console sign-in: the order of checks that keeps password guessing slow and cheap.

For each `POST /console/login`, cheapest first, and nothing hashed until all have passed:

1. per client address (`CONSOLE_SIGNIN_RATE_IP`, token bucket, before the form is read):
   one address cannot spray passwords over many user names;
2. per user name (`CONSOLE_SIGNIN_RATE_USER`): many addresses (a botnet) cannot try many
   passwords on one account. An address the user signed in from within 30 days is not held
   up by this limit, so a spray on the admin's name does not keep the admin out of the office;
   a new address waits seconds (429 + Retry-After), never a lock-out;
3. the lock-out per (user name, address) (`Accounts.begin_attempt`): counted atomically
   before the password is checked; locks only the address that failed;
4. the bounded hashing pool (`HashGate`): refuses with 503 + Retry-After when full.

The client address is `channels.ratelimit.client_ip` (X-Forwarded-For only from
`TRUSTED_PROXIES`). Buckets live in each gateway process (like the public API's).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from channels.console.accounts import Accounts, User
from channels.console.hash_gate import HashBusy, HashGate
from channels.console.passwords import hash_password, needs_rehash, verify_password
from channels.ratelimit import Rate, TokenBuckets

log = logging.getLogger("channels.console")


@dataclass(frozen=True)
class Outcome:
    kind: str  # ok | bad | locked | limited | busy
    user: User | None = None
    token: str | None = None
    retry_after_s: float = 0.0


def _buckets(spec: str, name: str) -> TokenBuckets | None:
    rate = Rate.parse(spec, name)
    return TokenBuckets(rate) if rate is not None else None


class SignInService:
    def __init__(self, accounts: Accounts) -> None:
        cfg = accounts.config
        self.accounts = accounts
        self.per_ip = _buckets(cfg.signin_rate_ip, "CONSOLE_SIGNIN_RATE_IP")
        self.per_user = _buckets(cfg.signin_rate_user, "CONSOLE_SIGNIN_RATE_USER")
        self.gate = HashGate(cfg.scrypt_workers, cfg.scrypt_queue, cfg.scrypt_wait_s)

    def address_wait(self, ip: str) -> float:
        """Seconds this address must wait before its next attempt (0: go on)."""
        return self.per_ip.take(ip) if self.per_ip is not None else 0.0

    async def attempt(self, username: str, password: str, ip: str) -> Outcome:
        acc = self.accounts
        wait = self.per_user.take(username) if self.per_user is not None else 0.0
        if wait and not await asyncio.to_thread(acc.is_known_address, username, ip):
            return Outcome("limited", retry_after_s=wait)
        attempt = await asyncio.to_thread(acc.begin_attempt, username, ip)
        if not attempt.allowed:
            return Outcome("locked", retry_after_s=attempt.retry_after_s)
        try:
            good = await self.gate.run(verify_password, password, attempt.stored_hash)
        except HashBusy as busy:
            await asyncio.to_thread(acc.attempt_abandoned, username, ip)
            return Outcome("busy", retry_after_s=busy.retry_after_s)
        user = attempt.user
        if not good or user is None or not user.active:
            if attempt.failures >= acc.config.lockout_threshold:
                return Outcome("locked", retry_after_s=float(acc.config.lockout_s))
            return Outcome("bad")
        await asyncio.to_thread(acc.attempt_succeeded, username, ip)
        if needs_rehash(attempt.stored_hash):
            await self._upgrade(user, password, attempt.stored_hash)
        token = await asyncio.to_thread(acc.create_session, user)
        return Outcome("ok", user=user, token=token)

    async def _upgrade(self, user: User, password: str, old_hash: str) -> None:
        """Re-hash at today's cost now that the password is known (skipped when busy)."""
        try:
            new_hash = await self.gate.run(hash_password, password)
        except HashBusy:
            return  # next time
        await asyncio.to_thread(self.accounts.replace_hash, user.id, old_hash, new_hash)
        log.info("console: password hash of %s upgraded to the current scrypt cost",
                 user.username)

    def close(self) -> None:
        self.gate.close()
