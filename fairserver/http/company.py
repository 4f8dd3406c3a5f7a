"""Company views: a recruiter's company, its fairs and applications."""

from __future__ import annotations

from aiohttp import web

routes = web.RouteTableDef()
