// The official socket.io-client (from npm) against fairserver: joins a fair,
// reports the ack, then reports the first announcement it receives.
// Usage: node fair_client.mjs URL COOKIE FAIR_SLUG
import { io } from "socket.io-client";

const [url, cookie, fair] = process.argv.slice(2);
const socket = io(url, {
  transports: ["websocket"],
  extraHeaders: { Cookie: cookie },
  reconnection: false,
  timeout: 5000,
});
const print = (kind, data) => process.stdout.write(JSON.stringify({ kind, data }) + "\n");
const stop = setTimeout(() => { print("timeout", null); process.exit(2); }, 15000);

socket.on("connect_error", (err) => { print("connect_error", String(err.message)); process.exit(1); });
socket.on("fair.announcement", (event) => {
  print("announcement", event);
  clearTimeout(stop);
  socket.close();
});
socket.on("connect", async () => {
  const ack = await socket.timeout(5000).emitWithAck("fair.join", { fair });
  print("joined", ack);
});
