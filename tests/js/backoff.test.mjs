import { test } from "node:test";
import assert from "node:assert/strict";

import { RETRY_DELAYS_MS, retryDelay, retryWhileTimedOut, sleep } from "../../web/static/js/logic/backoff.js";
import { fakeClock } from "./clock.mjs";

const timeout = { ok: false, error: { code: "timeout", message: "no ack" } };
const refused = { ok: false, error: { code: "rate_limited", message: "slow down" } };
const ok = { ok: true, data: { id: 7 } };

// attempt() answering with `replies` in turn (the last one repeated), counting its calls.
function attempts(...replies) {
  const calls = [];
  const attempt = async () => {
    calls.push(calls.length);
    return replies[Math.min(calls.length - 1, replies.length - 1)];
  };
  return { attempt, calls };
}

test("the delays grow from 1 s to 15 s", () => {
  assert.deepEqual(RETRY_DELAYS_MS, [1000, 2000, 4000, 8000, 15000]);
});

test("retryDelay walks the delays, then repeats the last", () => {
  assert.deepEqual(
    [0, 1, 2, 3, 4, 5, 6, 50].map((attempt) => retryDelay(attempt)),
    [1000, 2000, 4000, 8000, 15000, 15000, 15000, 15000],
  );
  assert.deepEqual([0, 1, 2].map((attempt) => retryDelay(attempt, [10, 20])), [10, 20, 20]);
});

test("a send acknowledged at once is not retried", async () => {
  const { attempt, calls } = attempts(ok);
  const waits = [];
  const reply = await retryWhileTimedOut(attempt, { wait: async (ms) => waits.push(ms) });
  assert.deepEqual(reply, ok);
  assert.equal(calls.length, 1);
  assert.deepEqual(waits, []);
});

test("timeouts are retried after growing waits until the ack comes", async () => {
  const { attempt, calls } = attempts(timeout, timeout, timeout, ok);
  const waits = [];
  const reply = await retryWhileTimedOut(attempt, { wait: async (ms) => waits.push(ms) });
  assert.deepEqual(reply, ok);
  assert.equal(calls.length, 4);
  assert.deepEqual(waits, [1000, 2000, 4000]);
});

test("a refusal is final: only timeouts are retried", async () => {
  const { attempt, calls } = attempts(timeout, refused, ok);
  const waits = [];
  const reply = await retryWhileTimedOut(attempt, { wait: async (ms) => waits.push(ms) });
  assert.deepEqual(reply, refused);
  assert.equal(calls.length, 2);
  assert.deepEqual(waits, [1000]);
});

test("after every delay is used the last timeout is the answer", async () => {
  const { attempt, calls } = attempts(timeout);
  const waits = [];
  const reply = await retryWhileTimedOut(attempt, { wait: async (ms) => waits.push(ms) });
  assert.deepEqual(reply, timeout);
  assert.equal(calls.length, RETRY_DELAYS_MS.length + 1);
  assert.deepEqual(waits, RETRY_DELAYS_MS);
});

test("by default the waits are real timers: 1 s, then 2 s", async (t) => {
  const clock = fakeClock(t);
  const { attempt, calls } = attempts(timeout, timeout, ok);
  let reply = null;
  retryWhileTimedOut(attempt).then((r) => (reply = r));
  await clock.advance(999);
  assert.equal(calls.length, 1);
  await clock.advance(1);
  assert.equal(calls.length, 2);
  await clock.advance(1999);
  assert.equal(calls.length, 2);
  await clock.advance(1);
  assert.equal(calls.length, 3);
  assert.deepEqual(reply, ok);
});

test("sleep resolves after its delay", async (t) => {
  const clock = fakeClock(t);
  let done = false;
  sleep(500).then(() => (done = true));
  await clock.advance(499);
  assert.equal(done, false);
  await clock.advance(1);
  assert.equal(done, true);
});
