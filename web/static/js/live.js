// The shared real-time client (booth.js, briefing.js): one socket.io connection over
// websocket, acks as the server's envelope, rooms rejoined after a reconnect with the
// last event id seen in each (so the server replays what was missed), events
// de-duplicated by their per-room seq, and sends retried with the SAME client_id so
// the server stores a retried message once.
//
// A join may declare its snapshot the room's whole state ({fullSnapshot: true}, as a
// briefing's): durable events that arrive while that join is in flight are held back
// and applied after the snapshot, and those the snapshot already holds (seq up to its
// last_event_id) are dropped rather than applied over it. Booth joins do not use it:
// their snapshot holds only part of the room (lobby messages, not private ones).
import { io } from "/vendor/socket.io/socket.io.esm.min.js";
import { retryWhileTimedOut } from "/static/js/logic/backoff.js";
import { RoomSeqs } from "/static/js/logic/room-seq.js";

const ACK_TIMEOUT_MS = 10000;

export function newClientId() {
  if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
  // Older browsers: still unique enough for one user's retries.
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}

const shared = new Map();

// One connection per page and purpose: the briefing's Q&A and its stage share one socket,
// so the server sees one visit (one attendance interval), not one per script.
export function sharedLive(key) {
  if (!shared.has(key)) shared.set(key, new Live());
  return shared.get(key);
}

export class Live {
  constructor({ onStatus = () => {} } = {}) {
    this.statusListeners = [onStatus];
    this.onStatus = (...args) => {
      for (const listener of this.statusListeners) listener(...args);
    };
    this.socket = io({ transports: ["websocket"], reconnectionDelayMax: 5000 });
    this.joins = []; // [{event, payload, room, onSnapshot, fullSnapshot}] in join order (fair first)
    this.seqs = new RoomSeqs(); // per room: the highest seq, those seen, a full snapshot's floor
    this.holding = 0; // full-snapshot joins in flight
    this.held = []; // [event, data] of durable events waiting for those joins
    this.handlers = new Map(); // event -> [handler]
    this.socket.on("connect", () => this.rejoin());
    this.socket.on("disconnect", () => this.onStatus("offline"));
    this.socket.on("connect_error", () => this.onStatus("offline"));
  }

  // The ack envelope {ok, data} / {ok: false, error}; a timeout is an error too.
  async emitWithAck(event, data, timeoutMs = ACK_TIMEOUT_MS) {
    try {
      return await this.socket.timeout(timeoutMs).emitWithAck(event, data);
    } catch (err) {
      return { ok: false, error: { code: "timeout", message: String(err) } };
    }
  }

  // For writes with a client_id: retried while unacknowledged (timeouts, reconnects);
  // the same client_id each time, so a message that did arrive is not stored twice.
  async send(event, data) {
    const payload = data.client_id ? data : { ...data, client_id: newClientId() };
    return retryWhileTimedOut(() => this.emitWithAck(event, payload));
  }

  on(event, handler) {
    if (!this.handlers.has(event)) {
      this.handlers.set(event, []);
      this.socket.on(event, (data) => this.deliver(event, data));
    }
    this.handlers.get(event).push(handler);
  }

  // True the first time a (room, seq) is seen; events without seq are ephemeral.
  fresh(room, seq) {
    return this.seqs.fresh(room, seq);
  }

  deliver(event, data) {
    if (this.holding > 0 && data?.seq != null) {
      this.held.push([event, data]);
      return;
    }
    if (!this.fresh(data?.room, data?.seq)) return;
    for (const handler of this.handlers.get(event) || []) handler(data);
  }

  // Joins a room and remembers it, so it is rejoined (with `after`) on reconnect.
  // options.fullSnapshot: the snapshot is the room's whole state (see the top).
  async join(event, payload, onSnapshot, { fullSnapshot = false } = {}) {
    const entry = { event, payload, room: null, onSnapshot, fullSnapshot };
    this.joins.push(entry);
    if (this.socket.connected) return this.joinOne(entry);
    return null;
  }

  async joinOne(entry) {
    if (!entry.fullSnapshot) return this.joinAndReplay(entry);
    this.holding += 1;
    try {
      return await this.joinAndReplay(entry);
    } finally {
      this.holding -= 1;
      if (this.holding === 0) this.releaseHeld();
    }
  }

  async joinAndReplay(entry) {
    const after = this.seqs.after(entry.room);
    const payload = after != null ? { ...entry.payload, after } : entry.payload;
    const reply = await this.emitWithAck(entry.event, payload);
    if (!reply.ok) return reply;
    const data = reply.data || {};
    entry.room = data.room ?? entry.room;
    // A full snapshot is the new baseline: nothing up to its last event applies again.
    this.seqs.joined(entry.room, data.last_event_id, { fullSnapshot: entry.fullSnapshot });
    entry.onSnapshot?.(data);
    if (entry.fullSnapshot) return reply; // `missed` is already in the snapshot
    for (const missed of data.missed || []) {
      this.deliver(missed.event, { ...missed.payload, room: entry.room, seq: missed.seq });
    }
    return reply;
  }

  releaseHeld() {
    const held = this.held;
    this.held = [];
    for (const [event, data] of held) this.deliver(event, data);
  }

  async rejoin() {
    this.onStatus("connecting");
    for (const entry of this.joins) {
      const reply = await this.joinOne(entry);
      if (!reply.ok) {
        this.onStatus("unavailable", reply.error);
        return;
      }
    }
    this.onStatus("online");
  }

  addStatusListener(listener) {
    this.statusListeners.push(listener);
  }

  forget(event) {
    this.joins = this.joins.filter((entry) => entry.event !== event);
  }
}
