"""Rasa's Redis lock store configured by one URL (``REDIS_URL``), for several Rasa replicas.

With more than one Rasa process, two turns of one conversation may reach two replicas at
once; the lock store serialises them (the tracker store alone would let the second turn
overwrite the first). endpoints-cluster.yml::

    lock_store:
      type: components.lock_store.UrlRedisLockStore
      url: ${REDIS_URL}       # redis://[:password@]host:6379/0 (rediss:// for TLS)

The lock itself is Rasa's ticket lock (first come, first served; a ticket expires after
``lock_lifetime`` so a dead replica's turn does not block the conversation for ever), kept in
Redis as a sorted set of tickets and taken and released by one script call each.
Rasa's ``RedisLockStore`` reads, changes and writes back a JSON document in seven round trips
per turn, blocking the event loop for each, and two replicas issuing tickets for one
conversation at the same moment can overwrite each other's (no transaction between the read
and the write). A script runs atomically in Redis.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from urllib.parse import unquote, urlsplit

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

KEY_PREFIX = "yibao"

# KEYS: the tickets (a sorted set: member "ticket:expiry in ms", score the ticket number),
# the ticket counter. ARGV: lifetime in ms, the caller's member ("" for a new ticket).
# Returns {member, 1 = its turn, 0 = wait, -1 = the ticket expired}.
TAKE = """
local now = redis.call('TIME')
now = now[1] * 1000 + math.floor(now[2] / 1000)
for _, held in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  if tonumber(string.match(held, ':(%d+)$')) <= now then redis.call('ZREM', KEYS[1], held) end
end
local member = ARGV[2]
if member == '' then
  local ticket = redis.call('INCR', KEYS[2])
  member = ticket .. ':' .. (now + ARGV[1])
  redis.call('ZADD', KEYS[1], ticket, member)
  for _, key in ipairs(KEYS) do
    if redis.call('PTTL', key) < tonumber(ARGV[1]) then redis.call('PEXPIRE', key, ARGV[1]) end
  end
elseif not redis.call('ZSCORE', KEYS[1], member) then
  return {member, -1}
end
return {member, redis.call('ZRANGE', KEYS[1], 0, 0)[1] == member and 1 or 0}
"""


class UrlRedisLockStore(RedisLockStore):
    def __init__(self, endpoint_config: EndpointConfig) -> None:
        if not endpoint_config.url:
            raise ValueError("UrlRedisLockStore needs `url:` (REDIS_URL)")
        parts = urlsplit(endpoint_config.url)
        if parts.scheme not in ("redis", "rediss"):
            raise ValueError(f"REDIS_URL must start with redis:// or rediss://, got {parts.scheme}://")
        super().__init__(
            host=parts.hostname or "localhost",
            port=parts.port or 6379,
            db=int(parts.path.lstrip("/") or 0),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            use_ssl=parts.scheme == "rediss",
            key_prefix=endpoint_config.kwargs.get("key_prefix", KEY_PREFIX),
        )
        self._take = self.red.register_script(TAKE)

    @asynccontextmanager
    async def lock(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME,
                   wait_time_in_seconds: float = 1) -> AsyncGenerator[TicketLock, None]:
        """Wait for this conversation's earlier turns (on any replica), then hold the lock."""
        keys = [f"{self.key_prefix}tickets:{conversation_id}",
                f"{self.key_prefix}counter:{conversation_id}"]
        lifetime_ms = max(1, int(lock_lifetime * 1000))
        member, state = self._take(keys=keys, args=[lifetime_ms, ""])
        try:
            while state == 0:
                await asyncio.sleep(wait_time_in_seconds)
                member, state = self._take(keys=keys, args=[lifetime_ms, member])
            if state < 0:
                raise LockError(f"Could not acquire lock for conversation_id '{conversation_id}'.")
            yield TicketLock(conversation_id)
        finally:
            self.red.zrem(keys[0], member)
