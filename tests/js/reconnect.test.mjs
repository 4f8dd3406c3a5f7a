// The media reconnect policy (rtc.js keepConnected = logic/reconnect.js with the browser's
// network events): when a new peer is made, how long it waits, what it reports.
import { test } from "node:test";
import assert from "node:assert/strict";

import { DISCONNECTED_GRACE_MS, createReconnector } from "../../web/static/js/logic/reconnect.js";
import { fakeClock, settle } from "./clock.mjs";

// What keepConnected needs of an RTCPeerConnection.
class FakePeer extends EventTarget {
  constructor(n, state) {
    super();
    this.n = n;
    this.connectionState = state;
    this.closed = false;
  }

  close() {
    this.closed = true;
    this.connectionState = "closed"; // a closed RTCPeerConnection fires no event
  }

  become(state) {
    this.connectionState = state;
    this.dispatchEvent(new Event("connectionstatechange"));
  }
}

// A reconnector on a fake clock. `plan` says what each connect() does in turn (after it,
// a new peer in `state`): "peer", "throw", null (a permanent refusal), or a function
// returning the promise connect() returns.
function setUp(t, { plan = [], state = "connecting" } = {}) {
  const clock = fakeClock(t);
  const statuses = [];
  const peers = [];
  const connects = []; // clock time of each connect()
  const net = { listener: null, unwatched: 0 };
  const newPeer = (peerState = state) => {
    const pc = new FakePeer(peers.length + 1, peerState);
    peers.push(pc);
    return pc;
  };
  const keeper = createReconnector({
    connect: async () => {
      connects.push(clock.now);
      const step = plan.length ? plan.shift() : "peer";
      if (step === "throw") throw new Error("offline");
      if (step === null) return null;
      if (typeof step === "function") return step();
      return newPeer();
    },
    onStatus: (status) => statuses.push(status),
    watchNetwork: (listener) => {
      net.listener = listener;
      return () => {
        net.listener = null;
        net.unwatched += 1;
      };
    },
  });
  return { clock, statuses, peers, connects, net, keeper, newPeer };
}

function deferred() {
  let resolve;
  const promise = new Promise((r) => (resolve = r));
  return { promise, resolve };
}

test("a disconnected peer gets 3 s to heal", () => {
  assert.equal(DISCONNECTED_GRACE_MS, 3000);
});

test("start connects at once, says connecting, then connected", async (t) => {
  const { statuses, peers, connects, keeper } = setUp(t);
  keeper.start();
  await settle();
  assert.deepEqual(connects, [0]);
  assert.deepEqual(statuses, ["connecting"]);
  assert.equal(keeper.running, true);
  assert.equal(keeper.pc, peers[0]);
  peers[0].become("connected");
  assert.deepEqual(statuses, ["connecting", "connected"]);
});

test("a peer already connected when connect() resolves is reported connected", async (t) => {
  const { statuses, keeper } = setUp(t, { state: "connected" });
  keeper.start();
  await settle();
  assert.deepEqual(statuses, ["connecting", "connected"]);
});

test("start twice is one connection", async (t) => {
  const { connects, keeper } = setUp(t);
  keeper.start();
  keeper.start();
  await settle();
  assert.deepEqual(connects, [0]);
});

test("a connect() that throws is retried after 1, 2, 4, 8, 15, 15 s", async (t) => {
  const plan = ["throw", "throw", "throw", "throw", "throw", "throw", "peer"];
  const { clock, statuses, connects, keeper } = setUp(t, { plan });
  keeper.start();
  await clock.advance(120000);
  assert.deepEqual(connects, [0, 1000, 3000, 7000, 15000, 30000, 45000]);
  assert.equal(statuses[0], "connecting");
  assert.ok(statuses.slice(1).every((s) => s === "reconnecting"), statuses.join());
  assert.equal(statuses.length, 1 + 6 * 2); // each failure: scheduled, then the attempt
  assert.deepEqual(clock.pending(), []);
});

test("between retries nothing happens early", async (t) => {
  const { clock, connects, keeper } = setUp(t, { plan: ["throw", "throw"] });
  keeper.start();
  await clock.advance(999);
  assert.deepEqual(connects, [0]);
  await clock.advance(1);
  assert.deepEqual(connects, [0, 1000]);
  assert.deepEqual(clock.pending(), [2000]);
});

test("a failed peer is closed and replaced after the back-off", async (t) => {
  const { clock, statuses, peers, connects, keeper } = setUp(t);
  keeper.start();
  await settle();
  peers[0].become("connected");
  peers[0].become("failed");
  assert.equal(peers[0].closed, true);
  assert.equal(keeper.pc, null);
  assert.equal(statuses.at(-1), "reconnecting");
  assert.deepEqual(clock.pending(), [1000]);
  await clock.advance(1000);
  assert.deepEqual(connects, [0, 1000]);
  assert.equal(keeper.pc, peers[1]);
  assert.equal(peers[1].closed, false);
});

test("a connection that worked resets the back-off", async (t) => {
  const { clock, peers, connects, keeper } = setUp(t, { plan: ["throw", "throw", "peer"] });
  keeper.start();
  await clock.advance(3000); // tries at 0, 1000, 3000
  assert.deepEqual(connects, [0, 1000, 3000]);
  peers[0].become("connected");
  peers[0].become("failed");
  assert.deepEqual(clock.pending(), [1000]); // not 4000: the count started again
});

test("without a connection in between the back-off keeps growing", async (t) => {
  const { clock, peers, keeper } = setUp(t, { plan: ["throw", "peer"] });
  keeper.start();
  await clock.advance(1000);
  peers[0].become("failed"); // never connected
  assert.deepEqual(clock.pending(), [2000]);
});

test("disconnected for more than 3 s is a retry", async (t) => {
  const { clock, peers, connects, keeper } = setUp(t);
  keeper.start();
  await settle();
  peers[0].become("connected");
  peers[0].become("disconnected");
  await clock.advance(2999);
  assert.equal(peers[0].closed, false);
  assert.deepEqual(connects, [0]);
  await clock.advance(1);
  assert.equal(peers[0].closed, true);
  await clock.advance(1000);
  assert.deepEqual(connects, [0, 4000]);
});

test("disconnected that heals within 3 s is left alone", async (t) => {
  const { clock, statuses, peers, connects, keeper } = setUp(t);
  keeper.start();
  await settle();
  peers[0].become("connected");
  peers[0].become("disconnected");
  await clock.advance(2000);
  peers[0].become("connected");
  await clock.advance(60000);
  assert.deepEqual(connects, [0]);
  assert.equal(peers[0].closed, false);
  assert.deepEqual(statuses, ["connecting", "connected", "connected"]);
});

test("connect() resolving null gives up: stopped, no retries, network unwatched", async (t) => {
  const { clock, statuses, connects, net, keeper } = setUp(t, { plan: [null] });
  keeper.start();
  await clock.advance(60000);
  assert.deepEqual(connects, [0]);
  assert.deepEqual(statuses, ["connecting", "stopped"]);
  assert.equal(keeper.running, false);
  assert.equal(net.listener, null);
  assert.equal(net.unwatched, 1);
});

test("stop() while connecting closes the peer that arrives late and never retries", async (t) => {
  const late = deferred();
  const { clock, statuses, connects, keeper, newPeer } = setUp(t, { plan: [() => late.promise] });
  keeper.start();
  await settle();
  keeper.stop();
  assert.deepEqual(statuses, ["connecting", "stopped"]);
  const pc = newPeer("connected");
  late.resolve(pc);
  await clock.advance(60000);
  assert.equal(pc.closed, true);
  assert.equal(keeper.pc, null);
  assert.deepEqual(connects, [0]);
});

test("stop() closes the peer and cancels a scheduled retry", async (t) => {
  const { clock, statuses, peers, connects, keeper } = setUp(t);
  keeper.start();
  await settle();
  peers[0].become("failed");
  assert.deepEqual(clock.pending(), [1000]);
  keeper.stop();
  assert.deepEqual(clock.pending(), []);
  await clock.advance(60000);
  assert.deepEqual(connects, [0]);
  assert.equal(statuses.at(-1), "stopped");
  keeper.stop(); // once only
  assert.equal(statuses.filter((s) => s === "stopped").length, 1);
});

test("retry() (the socket came back) reconnects at once and closes the old peer", async (t) => {
  const { clock, statuses, peers, connects, keeper } = setUp(t);
  keeper.start();
  await clock.advance(5000);
  peers[0].become("connected");
  keeper.retry("socket");
  await settle();
  assert.deepEqual(connects, [0, 5000]);
  assert.equal(peers[0].closed, true);
  assert.equal(keeper.pc, peers[1]);
  assert.equal(statuses.at(-1), "reconnecting");
});

test("retries during an attempt become one more attempt after it", async (t) => {
  const first = deferred();
  const { statuses, connects, keeper, newPeer } = setUp(t, { plan: [() => first.promise] });
  keeper.start();
  await settle();
  keeper.retry("socket");
  keeper.refresh();
  keeper.refresh();
  assert.deepEqual(connects, [0]);
  first.resolve(newPeer());
  await settle();
  assert.equal(connects.length, 2);
  // "reconnecting" wins over refresh()'s "connecting": something did break.
  assert.deepEqual(statuses, ["connecting", "reconnecting"]);
});

test("refresh() is a planned new connection: connecting, not reconnecting", async (t) => {
  const { statuses, peers, connects, keeper } = setUp(t);
  keeper.start();
  await settle();
  peers[0].become("connected");
  keeper.refresh();
  await settle();
  assert.equal(connects.length, 2);
  assert.equal(peers[0].closed, true);
  assert.deepEqual(statuses, ["connecting", "connected", "connecting"]);
});

test("the old peer's late events change nothing", async (t) => {
  const { clock, peers, connects, keeper } = setUp(t);
  keeper.start();
  await settle();
  keeper.refresh();
  await settle();
  peers[0].become("failed");
  await clock.advance(60000);
  assert.deepEqual(connects, [0, 0]);
  assert.equal(keeper.pc, peers[1]);
});

test("the network coming back reconnects a peer that is not connected, only", async (t) => {
  const { clock, peers, connects, net, keeper } = setUp(t);
  keeper.start();
  await settle();
  peers[0].become("connected");
  net.listener();
  await settle();
  assert.deepEqual(connects, [0]); // connected: left alone
  await clock.advance(1000);
  peers[0].become("disconnected");
  net.listener(); // no need to wait out the 3 s
  await settle();
  assert.deepEqual(connects, [0, 1000]);
  assert.equal(peers[0].closed, true);
  assert.deepEqual(clock.pending(), []); // the grace timer is gone
});

test("the network is watched from start() to stop()", async (t) => {
  const { net, keeper } = setUp(t);
  assert.equal(net.listener, null);
  keeper.start();
  assert.equal(typeof net.listener, "function");
  keeper.stop();
  assert.equal(net.listener, null);
  assert.equal(net.unwatched, 1);
});
