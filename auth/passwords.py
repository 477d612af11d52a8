"""Password hashing with argon2id.

The default profile is OWASP's minimum for argon2id (19 MiB, 2 iterations, parallelism 1): it
meets the guidance while allowing several times more logins per core than the library default.
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.low_level import Type

password_hasher = PasswordHasher(
    time_cost=2, memory_cost=19 * 1024, parallelism=1, hash_len=32, salt_len=16, type=Type.ID
)


def hash_password(password: str) -> str:
    return password_hasher.hash(password)
