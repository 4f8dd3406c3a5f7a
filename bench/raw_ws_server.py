"""The baseline: a plain aiohttp websocket broadcast, the cheapest fan-out Python offers.

Every text frame a client sends is written to every connected client. Run as
`python -m bench.raw_ws_server PORT`.
"""

from __future__ import annotations

import sys

from aiohttp import WSMsgType, web

CLIENTS = web.AppKey("clients", set)


async def socket(request: web.Request) -> web.WebSocketResponse:
    ws = web.WebSocketResponse(max_msg_size=64 * 1024)
    await ws.prepare(request)
    clients: set[web.WebSocketResponse] = request.app[CLIENTS]
    clients.add(ws)
    try:
        async for message in ws:
            if message.type == WSMsgType.TEXT:
                for peer in list(clients):
                    if not peer.closed:
                        await peer.send_str(message.data)
    finally:
        clients.discard(ws)
    return ws


def main() -> None:
    app = web.Application()
    app[CLIENTS] = set()
    app.router.add_get("/ws", socket)
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)


if __name__ == "__main__":
    main()
