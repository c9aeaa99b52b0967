"""Password hashing with the standard library's scrypt (RFC 7914).

Stored form: ``scrypt$<n>$<r>$<p>$<salt b64>$<hash b64>``; verifying re-derives with the
stored parameters, so the cost can be raised later without invalidating old hashes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

N, R, P, DKLEN = 2**14, 8, 1, 32
MIN_LENGTH = 10


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=N, r=R, p=P, dklen=DKLEN)
    b64 = base64.b64encode
    return f"scrypt${N}${R}${P}${b64(salt).decode()}${b64(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        got = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r),
                             p=int(p), dklen=len(expected))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, expected)


# A fixed hash to verify against when the user does not exist, so that the response time
# does not reveal which user names exist.
DUMMY_HASH = hash_password(secrets.token_urlsafe(16))


def password_problem(password: str) -> str | None:
    """Why a new password is refused (Chinese, for the form), or None."""
    if len(password) < MIN_LENGTH:
        return f"密码至少需要 {MIN_LENGTH} 个字符"
    if password.isdigit() or password.isalpha():
        return "密码需同时包含字母和数字（或符号）"
    return None
