import { test } from "node:test";
import assert from "node:assert/strict";

import { localLabel, offsetMinutes } from "../../web/static/js/logic/local-time.js";

const START = "2026-12-10T02:00:00+00:00"; // 10:00 in Shanghai
const END = "2026-12-10T04:30:00+00:00";

test("offsets come from the zone at that instant", () => {
  assert.equal(offsetMinutes(new Date(START), "Asia/Shanghai"), 480);
  assert.equal(offsetMinutes(new Date(START), "Europe/London"), 0);
  assert.equal(offsetMinutes(new Date("2026-07-01T00:00:00Z"), "Europe/London"), 60);
});

test("a viewer in the fair's zone gets nothing added", () => {
  assert.equal(localLabel(START, END, "Asia/Shanghai", "Asia/Shanghai", "en-GB"), "");
  // Another zone name with the same clock time is the same for the viewer.
  assert.equal(localLabel(START, END, "Asia/Shanghai", "Asia/Taipei", "en-GB"), "");
});

test("a viewer elsewhere sees the span in their own time, with their zone", () => {
  const label = localLabel(START, END, "Asia/Shanghai", "Europe/Berlin", "en-GB");
  assert.match(label, /^10 Dec, 03:00–05:30 CET$/);
});

test("a span crossing the viewer's midnight shows both days", () => {
  const label = localLabel("2026-12-10T14:00:00Z", "2026-12-10T17:00:00Z", "Asia/Shanghai", "Asia/Tokyo", "en-GB");
  assert.match(label, /^10 Dec, 23:00–11 Dec, 02:00 GMT\+9$/);
});
