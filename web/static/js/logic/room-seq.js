// What live.js remembers of each room's durable events, so that a reconnect neither loses
// nor repeats any: every durable event carries its room and a per-room seq. A rejoin asks
// for the events `after` the highest seq seen; events arrive at most once (replays and
// live delivery overlap around a rejoin); and a room joined with a full snapshot drops
// every event up to the snapshot's last_event_id (the snapshot already holds them).
//
// Pure logic: no DOM, no page state; imports are relative, so Node's test runner
// (tests/js) loads the same file the browser does.

export const SEEN_LIMIT = 1000; // seqs remembered per room, for de-duplication

export class RoomSeqs {
  constructor(limit = SEEN_LIMIT) {
    this.limit = limit;
    this.lastSeq = new Map(); // room -> highest seq seen
    this.seen = new Map(); // room -> Set of seqs already handled
    this.floor = new Map(); // room -> last_event_id of its full snapshot: older is stale
  }

  // The `after` of a rejoin: the highest seq seen in the room (undefined before the
  // first join told us the room, or while it has none).
  after(room) {
    return room != null ? this.lastSeq.get(room) : undefined;
  }

  // A join's reply named the room and its last_event_id. A full snapshot is the new
  // baseline: nothing up to its last event applies again. Otherwise the first join sets
  // where the room starts; later ones keep what was seen.
  joined(room, lastEventId, { fullSnapshot = false } = {}) {
    if (room == null) return;
    if (fullSnapshot) {
      const last = lastEventId || 0;
      this.floor.set(room, last);
      this.lastSeq.set(room, Math.max(last, this.lastSeq.get(room) || 0));
    } else if (!this.lastSeq.has(room)) {
      this.lastSeq.set(room, lastEventId || 0);
    }
  }

  // True the first time a (room, seq) is seen; events without seq are ephemeral.
  fresh(room, seq) {
    if (room == null || seq == null) return true;
    if (seq <= (this.floor.get(room) ?? -1)) return false;
    let seen = this.seen.get(room);
    if (!seen) this.seen.set(room, (seen = new Set()));
    if (seen.has(seq)) return false;
    seen.add(seq);
    if (seen.size > this.limit) seen.delete(seen.values().next().value);
    if (seq > (this.lastSeq.get(room) || 0)) this.lastSeq.set(room, seq);
    return true;
  }
}
