// A fake clock for the Node tests: replaces the global setTimeout/clearTimeout (what the
// logic modules call) for one test, and runs what is due as time is advanced, letting
// promises settle in between. Restored when the test ends.
import { setImmediate as realImmediate } from "node:timers";

// Lets every pending promise callback run (the microtask queue drains before this).
export const settle = () => new Promise((resolve) => realImmediate(resolve));

export function fakeClock(t) {
  const real = { setTimeout: globalThis.setTimeout, clearTimeout: globalThis.clearTimeout };
  const timers = new Map(); // id -> {at, fn}
  let now = 0;
  let nextId = 1;
  globalThis.setTimeout = (fn, ms = 0) => {
    const id = nextId++;
    timers.set(id, { at: now + Math.max(0, ms), fn });
    return id;
  };
  globalThis.clearTimeout = (id) => {
    timers.delete(id);
  };
  t.after(() => Object.assign(globalThis, real));

  return {
    get now() {
      return now;
    },
    // Delays from now of the timers still pending, soonest first.
    pending() {
      return [...timers.values()].map((timer) => timer.at - now).sort((a, b) => a - b);
    },
    // Moves time forward by ms, firing each timer at its moment, in order.
    async advance(ms) {
      const end = now + ms;
      await settle();
      for (;;) {
        let due = null;
        for (const [id, timer] of timers) {
          if (timer.at <= end && (!due || timer.at < due[1].at)) due = [id, timer];
        }
        if (!due) break;
        timers.delete(due[0]);
        now = due[1].at;
        due[1].fn();
        await settle();
      }
      now = end;
      await settle();
    },
  };
}
