// The interview room's timer (logic/interview-timer.js).
import { test } from "node:test";
import assert from "node:assert/strict";

import { clock, minutesLeft, timerState, untilOpen } from "../../web/static/js/logic/interview-timer.js";

const start = Date.UTC(2026, 11, 4, 10, 0, 0);
const min = 60_000;

test("a slot's timer counts against its length", () => {
  const state = timerState({ now: start + 12 * min + 4000, startsAt: start, endsAt: start + 30 * min });
  assert.deepEqual(state, { running: true, text: "12:04 / 30:00", overtime: null });
});

test("after the end it counts overtime instead of stopping", () => {
  const state = timerState({ now: start + 32 * min + 15_000, startsAt: start, endsAt: start + 30 * min });
  assert.equal(state.text, "32:15 / 30:00");
  assert.equal(state.overtime, "02:15");
});

test("before the start it is not running and shows no negative time", () => {
  const state = timerState({ now: start - 3 * min, startsAt: start, endsAt: start + 30 * min });
  assert.equal(state.running, false);
  assert.equal(state.text, "00:00 / 30:00");
});

test("without a slot it counts from going live, and nothing before", () => {
  assert.deepEqual(timerState({ now: start + 65_000, startedAt: start }), {
    running: true,
    text: "01:05",
    overtime: null,
  });
  assert.equal(timerState({ now: start }).running, false);
  assert.equal(clock(3600 + 61), "1:01:01");
});

test("the page opens itself when the time comes, and the banner rounds minutes up", () => {
  assert.equal(untilOpen(start, start - 90_000), 90_000);
  assert.equal(untilOpen(start, start + 1), 0);
  assert.equal(minutesLeft(start + 5 * min, start + 1000), 5);
  assert.equal(minutesLeft(start, start + min), 0);
});
