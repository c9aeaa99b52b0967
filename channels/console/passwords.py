"""Password hashing with the standard library's scrypt (RFC 7914), and the password policy.

Stored form: ``scrypt$<n>$<r>$<p>$<salt b64>$<hash b64>``; verifying re-derives with the
stored parameters, so raising the cost does not invalidate old hashes: `needs_rehash` tells
the sign-in to store a new hash once the right password is known.

Cost: N=2^16, r=8, p=1, i.e. 64 MiB and ~0.2 s per derivation on this 2-core host
(N=2^14 before issue 12: 16 MiB, ~45 ms). OWASP's cheat sheet puts the floor at N=2^17
(128 MiB, ~0.45 s here); 2^16 is the most this host can afford with the bounded pool of
`signin_guard.HashGate` (one derivation at a time by default). Derivations run only there.

Policy (OWASP ASVS L1, 2.1.1-2.1.9): at least 12 characters (runs of spaces count once), at
most 128, any Unicode, no composition rules; refused if on the bundled breached list
(`common_passwords`), made of fewer than 4 distinct characters, or containing the user name
(NIST SP 800-63B 5.1.1.2 context-specific words).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets

from channels.console.common_passwords import is_common

N, R, P, DKLEN = 2**16, 8, 1, 32
MAX_N = 2**20  # a stored hash asking for more is corrupt, not a cost worth paying
MIN_LENGTH = 12
MAX_LENGTH = 128
_SPACE_RUNS = re.compile(r" {2,}")


def _maxmem(n: int, r: int, p: int) -> int:
    # OpenSSL needs 128*r*(n+2) bytes for V and 128*r*p for B; its default cap is 32 MiB.
    return 128 * r * (n + 2 + p) + 1024 * 1024


def _derive(password: str, salt: bytes, n: int, r: int, p: int, dklen: int) -> bytes:
    return hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, dklen=dklen,
                          maxmem=_maxmem(n, r, p))


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = _derive(password, salt, N, R, P, DKLEN)
    b64 = base64.b64encode
    return f"scrypt${N}${R}${P}${b64(salt).decode()}${b64(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt" or not 1 < int(n) <= MAX_N:
            return False
        expected = base64.b64decode(digest)
        got = _derive(password, base64.b64decode(salt), int(n), int(r), int(p), len(expected))
    except (ValueError, TypeError, MemoryError):
        return False
    return hmac.compare_digest(got, expected)


def needs_rehash(stored: str) -> bool:
    """True when `stored` was made with other parameters than today's."""
    parts = stored.split("$")
    return len(parts) != 6 or parts[1:4] != [str(N), str(R), str(P)]


# A fixed hash to verify against when the user does not exist, so that the response time
# does not reveal which user names exist.
DUMMY_HASH = hash_password(secrets.token_urlsafe(16))


def password_problem(password: str, username: str = "") -> str | None:
    """Why a new password is refused (Chinese, for the form), or None."""
    length = len(_SPACE_RUNS.sub(" ", password))
    if length < MIN_LENGTH:
        return f"密码至少需要 {MIN_LENGTH} 个字符"
    if len(password) > MAX_LENGTH:
        return f"密码不能超过 {MAX_LENGTH} 个字符"
    if len(set(password)) < 4:
        return "密码的字符过于单一，请换一个"
    name = username.strip().lower()
    if len(name) >= 3 and name in password.lower():
        return "密码不能包含用户名"
    if is_common(password):
        return "该密码过于常见（出现在已泄露密码列表中），请换一个"
    return None
