"""The FAQ widget for bureau web sites: `widget.js`, its chat endpoints and a demo page.

The gateway's app factory mounts `bp` (see `channels/app.py`).
"""

from channels.widget.routes import bp

__all__ = ["bp"]
