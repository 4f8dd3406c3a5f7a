// Retry timing, shared by the socket client (live.js: sends nobody acknowledged) and the
// media peers (reconnect.js, through rtc.js keepConnected: broken connections). The waits
// grow, and the last one repeats.
//
// Pure logic: no DOM, no page state; imports are relative, so Node's test runner
// (tests/js) loads the same file the browser does.

export const RETRY_DELAYS_MS = [1000, 2000, 4000, 8000, 15000];

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// The wait before retry `attempt` (0 for the first): past the end of delaysMs, its last.
export function retryDelay(attempt, delaysMs = RETRY_DELAYS_MS) {
  return delaysMs[Math.min(attempt, delaysMs.length - 1)];
}

// live.js send(): `attempt()` resolves to the server's ack envelope ({ok, data} |
// {ok: false, error: {code}}). It is tried again after each delay of delaysMs while the
// reply is a timeout, and only then (a refusal will not change); so at most
// delaysMs.length + 1 tries. Resolves to the last reply.
export async function retryWhileTimedOut(attempt, { delaysMs = RETRY_DELAYS_MS, wait = sleep } = {}) {
  let reply = await attempt();
  for (const delay of delaysMs) {
    if (reply.ok || reply.error.code !== "timeout") break;
    await wait(delay);
    reply = await attempt();
  }
  return reply;
}
