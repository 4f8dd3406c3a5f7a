// The briefing stage (P1 go live with up to 4 co-presenters, P2 watch with a low-bandwidth
// mode, P5 viewer count): presenters publish camera, microphone or screen; everyone seated
// in the briefing watches every live presenter, over WebRTC through the server's forwarding
// core. Signalling is the socket's media.* events with FULL SDP (rtc.js: aiortc has no
// trickle ICE). This module wires the page: status line, video grid, socket events; the
// viewer (stage-viewer.js) and the presenter (stage-presenter.js) do the media.
//
// It shares the page's briefing socket with briefing.js (sharedLive("briefing")); its own
// joins on that socket are idempotent on the server. Strings come from data-t-*
// attributes; user text (presenter names) via textContent only.
//
// Test hooks: window.__stagePeer is the RTCPeerConnection receiving the stage (or, while
// only publishing, the one sending); window.__stagePublisher the one sending;
// window.__stageLiveForTest is the page's socket client (tests drop its connection);
// window.__stageHealthForTest(sample) feeds a health sample (rtc.js shape) to the viewer's
// low-bandwidth suggestion (tests/e2e/test_stage.py).
import { sharedLive } from "/static/js/live.js";
import { translator, el } from "/static/js/dom.js";
import { createViewer } from "/static/js/stage-viewer.js";
import { createPresenter } from "/static/js/stage-presenter.js";

const root = document.getElementById("stage");
const ICE_FRESH_MS = 4 * 60 * 1000; // well inside the TURN credential's default 10 minutes

function createStage() {
  const t = translator(root);
  const $ = (selector) => root.querySelector(selector);
  const ctx = {
    root,
    t,
    $,
    live: null,
    briefingId: Number(root.dataset.briefing),
    fair: root.dataset.fair,
    userId: Number(root.dataset.user) || null,
    iceServers: [],
    iceAt: 0, // when iceServers came: a TURN credential lasts minutes, not a whole fair
    onStage: false, // joined (again) since the last disconnect
    publishers: [], // [{user_id, display_name}] live now, in order
    viewers: 0,
    message: null, // an error to show instead of the state, until the next action
    unmuted: false,
    localTile: null,
    remoteTiles: [],
  };

  ctx.send = (event, data = {}) => ctx.live.emitWithAck(event, { briefing_id: ctx.briefingId, ...data });

  // ICE servers for a new peer, asked for again when older than ICE_FRESH_MS.
  ctx.freshIce = async () => {
    if (Date.now() - ctx.iceAt > ICE_FRESH_MS) {
      const reply = await ctx.send("media.state");
      if (reply.ok) {
        ctx.iceServers = reply.data.ice_servers || [];
        ctx.iceAt = Date.now();
      }
    }
    return ctx.iceServers;
  };

  // The status line says the most important thing: an error, a broken connection, being
  // live, who is live, or that nobody is.
  ctx.renderStatus = () => {
    let text;
    const names = ctx.publishers.map((p) => p.display_name).join(", ");
    if (ctx.message) text = ctx.message;
    else if (ctx.presenter?.reconnecting() || ctx.viewer.reconnecting()) text = t("reconnecting");
    else if (!ctx.onStage) text = t("connecting");
    else if (ctx.presenter?.isLive()) text = t("you-are-live");
    else if (ctx.publishers.length) text = t("live-by", { names });
    // A presenter is not told to come back at the start time: they are the start.
    else text = t(ctx.presenter ? "presenter-not-live" : "not-live");
    $("[data-stage-status]").textContent = text;
    const count = $("[data-stage-viewers]");
    // The page's one "N watching" is the audience line (everyone in the briefing); this
    // is a different figure, the video connections, so only presenters see it, in words
    // of its own (issue 11: "2 watching" and "3 watching" on one page).
    count.textContent = ctx.presenter && ctx.publishers.length ? t("video-viewers", { n: ctx.viewers }) : "";
  };

  ctx.say = (message) => {
    ctx.message = message;
    ctx.renderStatus();
  };

  // Tiles: the presenter's own preview first, then every presenter being watched.
  ctx.tile = (name, stream, { local = false, audioOnly = false } = {}) => {
    const video = el("video", { "data-stage-video": "", autoplay: "", playsinline: "" });
    video.muted = local || !ctx.unmuted;
    video.srcObject = stream;
    video.play().catch(() => {}); // muted autoplay is allowed; a refusal is not an error here
    const figure = el("figure", { class: audioOnly ? "stage-tile audio-only" : "stage-tile" });
    figure.append(video, el("figcaption", { text: name }));
    return { figure, video, local };
  };

  ctx.renderGrid = () => {
    const grid = $("[data-stage-grid]");
    const tiles = [ctx.localTile, ...ctx.remoteTiles].filter(Boolean);
    grid.replaceChildren(...tiles.map((tile) => tile.figure));
    grid.dataset.count = String(tiles.length);
    $("[data-stage-screen]").hidden = tiles.length === 0;
    $("[data-stage-unmute]").hidden = ctx.remoteTiles.length === 0;
  };

  function toggleSound() {
    ctx.unmuted = !ctx.unmuted;
    for (const tile of ctx.remoteTiles) {
      tile.video.muted = !ctx.unmuted;
      if (ctx.unmuted) tile.video.play().catch(() => {});
    }
    $("[data-stage-unmute]").textContent = ctx.unmuted ? t("mute") : t("unmute");
  }

  function applyState(data) {
    ctx.publishers = data.publishers || [];
    ctx.viewers = data.viewers || 0;
    ctx.renderStatus();
    ctx.viewer.update();
  }

  async function onSnapshot() {
    const reply = await ctx.send("media.state");
    if (!reply.ok) return;
    ctx.iceServers = reply.data.ice_servers || [];
    ctx.iceAt = Date.now();
    ctx.onStage = true;
    applyState(reply.data);
    // The server closed this socket's peers when it went away: publish and watch again.
    ctx.presenter?.resume();
    ctx.viewer.resume();
  }

  function onStatus(status) {
    if (status !== "offline") return;
    ctx.onStage = false; // the rejoin's snapshot starts over
    ctx.renderStatus();
  }

  function start() {
    ctx.live = sharedLive("briefing"); // the Q&A's socket, when briefing.js runs too
    ctx.viewer = createViewer(ctx);
    ctx.presenter = root.dataset.presenter === "yes" && $("[data-stage-go-live]") ? createPresenter(ctx) : null;
    ctx.live.addStatusListener(onStatus);
    ctx.live.on("media.live", (event) => {
      if (event.briefing_id === ctx.briefingId) applyState(event);
    });
    ctx.live.on("briefing.banned", () => {
      ctx.live.forget("briefing.join");
      ctx.viewer.stop();
      ctx.presenter?.stop(false);
      ctx.publishers = [];
      ctx.renderStatus();
    });
    $("[data-stage-unmute]").addEventListener("click", toggleSound);
    window.__stageHealthForTest = (sample) => ctx.viewer.onSample(sample);
    window.__stageLiveForTest = ctx.live; // lets a test drop the socket like a network change
    ctx.live.join("fair.join", { fair: ctx.fair });
    ctx.live.join("briefing.join", { briefing_id: ctx.briefingId }, onSnapshot);
  }

  start();
}

if (root && root.querySelector("[data-stage-status]") && window.RTCPeerConnection) createStage();
