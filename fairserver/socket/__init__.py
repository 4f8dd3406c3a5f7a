"""Socket.io transport: one package per domain, plus the shared kit, server and fan-out."""
