// A waitlist offer's countdown (I1, slots.js): seconds left until a deadline, and how to
// show them. Pure, so Node's test runner checks it (tests/js/countdown.test.mjs).

// Whole seconds from `nowMs` until `deadlineMs`, never below zero.
export function secondsLeft(deadlineMs, nowMs) {
  return Math.max(0, Math.ceil((deadlineMs - nowMs) / 1000));
}

// "m:ss" for a number of seconds (minutes are not capped: an offer lasts minutes).
export function formatLeft(seconds) {
  const whole = Math.max(0, Math.floor(seconds));
  return `${Math.floor(whole / 60)}:${String(whole % 60).padStart(2, "0")}`;
}
