// The media reconnect policy, rtc.js keepConnected's core (the policy itself is described
// at the top of rtc.js). It knows nothing of the browser: the peer is anything with
// connectionState, close() and addEventListener("connectionstatechange", ...), and the
// network's comings and goings arrive through watchNetwork(listener) -> unwatch(), which
// rtc.js wires to window "online" and navigator.connection "change". Timers are the
// standard setTimeout/clearTimeout.
//
// Pure logic: no DOM, no page state; imports are relative, so Node's test runner
// (tests/js) loads the same file the browser does.
import { RETRY_DELAYS_MS, retryDelay } from "./backoff.js";

// How long a peer may stay "disconnected" (which often heals by itself) before a retry.
export const DISCONNECTED_GRACE_MS = 3000;

export function createReconnector({
  connect,
  onStatus = () => {},
  delaysMs = RETRY_DELAYS_MS,
  graceMs = DISCONNECTED_GRACE_MS,
  watchNetwork = () => () => {},
}) {
  let pc = null;
  let running = false;
  let attempt = 0;
  let busy = false;
  let again = null; // the status of one more attempt once this one settles
  let timer = null;
  let graceTimer = null;
  let unwatch = null; // stops watching the network

  const clearTimers = () => {
    clearTimeout(timer);
    clearTimeout(graceTimer);
    timer = graceTimer = null;
  };

  const onPeerState = (watched) => () => {
    if (!running || watched !== pc) return;
    const s = watched.connectionState;
    if (s === "connected") {
      attempt = 0;
      clearTimeout(graceTimer);
      graceTimer = null;
      onStatus("connected");
    } else if (s === "failed" || s === "closed") {
      retry(s);
    } else if (s === "disconnected" && !graceTimer) {
      graceTimer = setTimeout(() => {
        graceTimer = null;
        if (running && watched === pc && watched.connectionState === "disconnected") retry(s);
      }, graceMs);
    }
  };

  async function run(status) {
    if (busy) {
      again = again === "reconnecting" ? again : status;
      return;
    }
    busy = true;
    clearTimers();
    onStatus(status);
    const old = pc;
    pc = null;
    if (old) old.close();
    try {
      const fresh = await connect();
      if (!running) {
        fresh?.close();
      } else if (fresh === null) {
        stop(); // a permanent refusal: the caller says why
      } else {
        pc = fresh;
        fresh.addEventListener("connectionstatechange", onPeerState(fresh));
        if (fresh.connectionState === "connected") onStatus("connected");
      }
    } catch {
      if (running) schedule();
    } finally {
      busy = false;
    }
    const next = again;
    again = null;
    if (next && running) run(next);
  }

  function schedule() {
    const delay = retryDelay(attempt, delaysMs);
    attempt += 1;
    onStatus("reconnecting");
    clearTimeout(timer);
    timer = setTimeout(() => run("reconnecting"), delay);
  }

  function retry(reason) {
    if (!running) return;
    if (reason === "failed" || reason === "closed" || reason === "disconnected") {
      // The peer broke: wait a little (backoff) so a flapping network is not hammered.
      const old = pc;
      pc = null;
      if (old) old.close();
      schedule();
    } else {
      run("reconnecting");
    }
  }

  // A planned new connection (other publishers, another mode): no "reconnecting" shown.
  function refresh() {
    if (running) run("connecting");
  }

  const onNetwork = () => {
    if (running && !busy && (!pc || pc.connectionState !== "connected")) run("reconnecting");
  };

  function start() {
    if (running) return;
    running = true;
    attempt = 0;
    unwatch = watchNetwork(onNetwork);
    run("connecting");
  }

  function stop() {
    if (!running) return;
    running = false;
    clearTimers();
    unwatch?.();
    unwatch = null;
    const old = pc;
    pc = null;
    if (old) old.close();
    onStatus("stopped");
  }

  return {
    start,
    stop,
    retry,
    refresh,
    get pc() {
      return pc;
    },
    get running() {
      return running;
    },
  };
}
