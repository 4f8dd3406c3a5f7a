// What live.js remembers of each room's events across reconnects (logic/room-seq.js).
import { test } from "node:test";
import assert from "node:assert/strict";

import { RoomSeqs, SEEN_LIMIT } from "../../web/static/js/logic/room-seq.js";

test("events without a room or a seq are ephemeral: always delivered", () => {
  const seqs = new RoomSeqs();
  assert.equal(seqs.fresh(null, 1), true);
  assert.equal(seqs.fresh(null, 1), true);
  assert.equal(seqs.fresh("booth:1", null), true);
  assert.equal(seqs.fresh("booth:1", undefined), true);
  assert.equal(seqs.after("booth:1"), undefined);
});

test("an event is delivered once, even when the replay and the live copy both come", () => {
  const seqs = new RoomSeqs();
  assert.equal(seqs.fresh("booth:1", 4), true);
  assert.equal(seqs.fresh("booth:1", 4), false);
  assert.equal(seqs.fresh("booth:2", 4), true); // another room, its own numbering
});

test("a rejoin asks for what came after the highest seq seen", () => {
  const seqs = new RoomSeqs();
  seqs.joined("booth:1", 10);
  assert.equal(seqs.after("booth:1"), 10);
  seqs.fresh("booth:1", 12);
  seqs.fresh("booth:1", 11); // late, out of order: still delivered, `after` stays
  assert.equal(seqs.after("booth:1"), 12);
});

test("before the first join named the room there is no `after`", () => {
  const seqs = new RoomSeqs();
  assert.equal(seqs.after(null), undefined);
  assert.equal(seqs.after(undefined), undefined);
  assert.equal(seqs.after("booth:1"), undefined);
});

test("a room with no events yet starts at 0", () => {
  const seqs = new RoomSeqs();
  seqs.joined("fair:1", undefined);
  assert.equal(seqs.after("fair:1"), 0);
});

test("a partial snapshot's rejoin keeps what was seen, and replays are de-duplicated", () => {
  const seqs = new RoomSeqs();
  seqs.joined("booth:1", 3);
  seqs.fresh("booth:1", 4);
  seqs.fresh("booth:1", 5);
  seqs.joined("booth:1", 9); // the rejoin's reply: the server is at 9
  assert.equal(seqs.after("booth:1"), 5); // 6..9 come as `missed`
  assert.equal(seqs.fresh("booth:1", 5), false);
  assert.equal(seqs.fresh("booth:1", 6), true);
  // A partial snapshot holds no events: an old seq never seen is still news.
  assert.equal(seqs.fresh("booth:1", 2), true);
});

test("a full snapshot drops every event it already holds", () => {
  const seqs = new RoomSeqs();
  seqs.joined("briefing:1", 20, { fullSnapshot: true });
  assert.equal(seqs.after("briefing:1"), 20);
  assert.equal(seqs.fresh("briefing:1", 19), false); // never seen, but in the snapshot
  assert.equal(seqs.fresh("briefing:1", 20), false);
  assert.equal(seqs.fresh("briefing:1", 21), true);
});

test("a full snapshot older than what was seen does not move `after` back", () => {
  const seqs = new RoomSeqs();
  seqs.joined("briefing:1", 5, { fullSnapshot: true });
  seqs.fresh("briefing:1", 8);
  seqs.joined("briefing:1", 7, { fullSnapshot: true });
  assert.equal(seqs.after("briefing:1"), 8);
  assert.equal(seqs.fresh("briefing:1", 7), false);
});

test("only the last SEEN_LIMIT seqs of a room are remembered", () => {
  assert.equal(SEEN_LIMIT, 1000);
  const seqs = new RoomSeqs(3);
  for (const seq of [1, 2, 3, 4]) assert.equal(seqs.fresh("r", seq), true);
  assert.equal(seqs.fresh("r", 1), true); // forgotten: the oldest went first
  assert.equal(seqs.fresh("r", 4), false);
  assert.equal(seqs.after("r"), 4);
});
