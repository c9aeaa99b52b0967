"""The hotline staff console (`/console`): sign-in, live conversations across SMS, WeChat and
the web widget, take over / staff messages / hand back, the 转人工 queue, a calculator over
the rule layer, the knowledge browser, a dashboard and the audit log.

The gateway's app factory mounts `bp` (see `channels/app.py`).
"""

from channels.console import (  # noqa: F401 - routes
    views_admin,
    views_conversations,
    views_health,
    views_tools,
)
from channels.console.web import bp

__all__ = ["bp"]
