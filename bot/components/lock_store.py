"""Rasa's Redis lock store configured by one URL (``REDIS_URL``), for several Rasa replicas.

With more than one Rasa process, two turns of one conversation may reach two replicas at
once; the lock store serialises them (the tracker store alone would let the second turn
overwrite the first). endpoints-cluster.yml::

    lock_store:
      type: components.lock_store.UrlRedisLockStore
      url: ${REDIS_URL}       # redis://[:password@]host:6379/0 (rediss:// for TLS)
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from rasa.core.lock_store import RedisLockStore
from rasa.utils.endpoints import EndpointConfig

KEY_PREFIX = "yibao"


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
