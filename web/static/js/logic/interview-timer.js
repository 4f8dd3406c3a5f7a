// The interview room's timer (I2), as pure functions so that tests/js can check them.
// Times are milliseconds since the epoch on the server's clock: the page subtracts its
// skew (its own clock minus the snapshot's `now`) before asking.

function clock(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const mm = String(Math.floor((s % 3600) / 60)).padStart(2, "0");
  const ss = String(s % 60).padStart(2, "0");
  return h ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

// A booked slot: time since its start against its length ("12:04 / 30:00"); after the
// end the elapsed time keeps counting and `over` says by how much (nobody is cut off).
// Without a slot: time since the interview went live ("12:04"), no length.
export function timerState({ now, startsAt = null, endsAt = null, startedAt = null }) {
  if (startsAt !== null && endsAt !== null) {
    const elapsed = (now - startsAt) / 1000;
    const length = (endsAt - startsAt) / 1000;
    const over = Math.max(0, (now - endsAt) / 1000);
    return {
      running: now >= startsAt,
      text: `${clock(elapsed)} / ${clock(length)}`,
      overtime: over > 0 ? clock(over) : null,
    };
  }
  if (startedAt !== null) {
    return { running: true, text: clock((now - startedAt) / 1000), overtime: null };
  }
  return { running: false, text: "", overtime: null };
}

// Milliseconds (on this browser's clock) until the room opens; 0 when it is open.
export function untilOpen(opensAt, now) {
  return Math.max(0, opensAt - now);
}

// Minutes left of the slot, rounded up, for the wrap-up banner of a page opened late.
export function minutesLeft(endsAt, now) {
  return Math.max(0, Math.ceil((endsAt - now) / 60000));
}

export { clock };
