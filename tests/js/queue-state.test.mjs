// What a student sees of a booth's queue (booth.js through logic/queue-state.js).
import { test } from "node:test";
import assert from "node:assert/strict";

import {
  endedNotice,
  etaMinutes,
  positionState,
  queueView,
  secondsLeft,
} from "../../web/static/js/logic/queue-state.js";

const BOOTH = 7;

test("not queued: Join shows, Leave does not", () => {
  const view = queueView({ state: "none", length: 3, last_outcome: null }, BOOTH);
  assert.equal(view.joinable, true);
  assert.equal(view.leavable, false);
  assert.deepEqual(view.text, { key: "not-queued", vars: {} });
  assert.equal(view.eta, null);
  assert.equal(view.call, null);
  assert.equal(view.dm, null);
});

test("waiting: position of length, and the estimated wait in minutes", () => {
  const view = queueView({ state: "waiting", length: 5, position: 2, eta_seconds: 600, entry_id: 9 }, BOOTH);
  assert.equal(view.joinable, false);
  assert.equal(view.leavable, true);
  assert.deepEqual(view.text, { key: "position", vars: { position: 2, length: 5 } });
  assert.deepEqual(view.eta, { key: "eta", vars: { minutes: 10 } });
  assert.equal(view.call, null);
});

test("the wait rounds to whole minutes and is never under one", () => {
  assert.equal(etaMinutes(0), 1);
  assert.equal(etaMinutes(29), 1);
  assert.equal(etaMinutes(89), 1);
  assert.equal(etaMinutes(90), 2);
  assert.equal(etaMinutes(150), 3);
  assert.equal(etaMinutes(3600), 60);
});

test("called: who calls, and the call dialog with the seconds left to answer", () => {
  const mine = {
    state: "called",
    length: 1,
    entry_id: 9,
    recruiter_id: 42,
    recruiter: "Rita",
    company: "Acme",
    expires_at: "2024-05-01T10:01:00Z",
    seconds_left: 42.5,
  };
  const view = queueView(mine, BOOTH);
  assert.equal(view.leavable, true);
  assert.deepEqual(view.text, { key: "called", vars: { recruiter: "Rita", company: "Acme" } });
  assert.equal(view.eta, null);
  assert.deepEqual(view.call, { booth_id: BOOTH, ...mine, seconds: 42.5 });
  assert.equal(view.dm, null);
});

test("chatting: the private chat with the recruiter opens", () => {
  const mine = { state: "chatting", length: 0, recruiter_id: 42, recruiter: "Rita", company: "Acme" };
  const view = queueView(mine, BOOTH);
  assert.deepEqual(view.text, { key: "chatting", vars: {} });
  assert.deepEqual(view.dm, { id: 42, name: "Rita" });
  assert.equal(view.call, null);
  assert.equal(queueView({ ...mine, recruiter_id: null }, BOOTH).dm, null);
});

test("a position event for this booth is the waiting state; another booth's is ignored", () => {
  const event = { booth_id: BOOTH, entry_id: 9, position: 1, length: 4, eta_seconds: 300 };
  const mine = positionState(event, BOOTH);
  assert.deepEqual(mine, { state: "waiting", ...event });
  assert.deepEqual(queueView(mine, BOOTH).text, { key: "position", vars: { position: 1, length: 4 } });
  assert.deepEqual(queueView(mine, BOOTH).eta.vars, { minutes: 5 });
  assert.equal(positionState({ ...event, booth_id: BOOTH + 1 }, BOOTH), null);
});

test("the call countdown counts whole seconds down to zero", () => {
  const deadline = 100000;
  assert.equal(secondsLeft(deadline, deadline - 30000), 30);
  assert.equal(secondsLeft(deadline, deadline - 29001), 30); // rounds up: 0.999 s left is "1"
  assert.equal(secondsLeft(deadline, deadline - 1), 1);
  assert.equal(secondsLeft(deadline, deadline), 0);
  assert.equal(secondsLeft(deadline, deadline + 5000), 0);
});

test("how an entry ended: the outcome's message, with the staff's reason", () => {
  assert.deepEqual(endedNotice({ outcome: "skipped", reason: "No CV" }), { key: "ended-skipped", reason: "No CV" });
  assert.deepEqual(endedNotice({ outcome: "expired", reason: "" }), { key: "ended-expired", reason: null });
  assert.deepEqual(endedNotice({ outcome: "served" }), { key: "ended-served", reason: null });
});

test("leaving by disconnecting has its own message and no reason line", () => {
  assert.deepEqual(endedNotice({ outcome: "left", reason: "disconnected" }), {
    key: "ended-left-disconnected",
    reason: null,
  });
  assert.deepEqual(endedNotice({ outcome: "left", reason: "" }), { key: "ended-left", reason: null });
  // "disconnected" is never shown as a reason, whatever the outcome.
  assert.deepEqual(endedNotice({ outcome: "expired", reason: "disconnected" }), {
    key: "ended-expired",
    reason: null,
  });
});

test("with nobody on duty, or everyone away, no wait is promised", () => {
  const waiting = { state: "waiting", length: 1, position: 1, eta_seconds: 300, entry_id: 9 };
  assert.deepEqual(queueView(waiting, BOOTH, []).eta, { key: "eta-no-staff", vars: {} });
  assert.deepEqual(queueView(waiting, BOOTH, [{ status: "away" }]).eta, { key: "eta-no-staff", vars: {} });
  assert.deepEqual(queueView(waiting, BOOTH, [{ status: "busy" }]).eta, { key: "eta", vars: { minutes: 5 } });
  // Presence not known yet: the server's estimate stands.
  assert.deepEqual(queueView(waiting, BOOTH).eta, { key: "eta", vars: { minutes: 5 } });
});
