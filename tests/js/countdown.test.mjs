import { test } from "node:test";
import assert from "node:assert/strict";

import { formatLeft, secondsLeft } from "../../web/static/js/logic/countdown.js";

test("seconds left round up and stop at zero", () => {
  assert.equal(secondsLeft(10_000, 0), 10);
  assert.equal(secondsLeft(10_000, 9_001), 1); // 0.999 s left still shows a second
  assert.equal(secondsLeft(10_000, 10_000), 0);
  assert.equal(secondsLeft(10_000, 25_000), 0);
});

test("the countdown reads as minutes and seconds", () => {
  assert.equal(formatLeft(600), "10:00");
  assert.equal(formatLeft(61), "1:01");
  assert.equal(formatLeft(9), "0:09");
  assert.equal(formatLeft(0), "0:00");
  assert.equal(formatLeft(-3), "0:00");
});
