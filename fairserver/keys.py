"""The app's typed keys: what create_app puts on the aiohttp application, for every layer.

Neutral ground: HTTP views, the socket layer and the start-up contexts all read these, so
none of them needs another's module to find the database or the services.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from fairserver.auth import Passwords
from fairserver.i18n import Catalogues
from fairserver.rooms.context import Services
from fairserver.settings import Settings
from fairserver.store.db import Database

if TYPE_CHECKING:
    from fairserver.socket.server import SocketLayer

SETTINGS = web.AppKey("settings", Settings)
DB = web.AppKey("db", Database)
PASSWORDS = web.AppKey("passwords", Passwords)
CATALOGUES = web.AppKey("catalogues", Catalogues)
SERVICES = web.AppKey("services", Services)
SOCKETS: web.AppKey[SocketLayer] = web.AppKey("sockets")
