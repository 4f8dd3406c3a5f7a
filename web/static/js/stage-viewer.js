// Watching the stage (stage.js wires it): one RTCPeerConnection receives every live
// presenter (co-presenters, P1), in the mode this browser chose (P2): "full" forwarded
// video and audio, "low" the server's 320x180 rendition and audio, "audio" sound only.
// The choice is one click and remembered in localStorage. When the set of presenters or
// the mode changes, the stage is watched again on a new peer (aiortc does not renegotiate
// well); rtc.js keepConnected redoes it, with backoff, when the connection breaks.
//
// Low-bandwidth suggestion: inbound video loss above 5 % in two consecutive 2-s samples,
// or two freezes within 10 s, shows a banner with a one-click switch (full -> low,
// low -> audio). Dismissed, it stays away for this page.
import {
  keepConnected,
  negotiate,
  newPeer,
  receive,
  watchHealth,
} from "/static/js/rtc.js";

const MODES = ["full", "low", "audio"];
const MODE_KEY = "fairserver.stage.mode";
const LOSS_PCT = 5;
const LOSS_SAMPLES = 2;
const FREEZES = 2;
const FREEZE_WINDOW = 5; // samples: 10 s
const PERMANENT = ["media.not_live", "not_found", "request.invalid"];

function savedMode() {
  try {
    const mode = localStorage.getItem(MODE_KEY);
    return MODES.includes(mode) ? mode : "full";
  } catch {
    return "full"; // storage disabled: the default every time
  }
}

export function createViewer(ctx) {
  const { t, $ } = ctx;
  const v = {
    mode: savedMode(),
    key: null, // what the current peer watches: presenters and mode
    controller: null,
    stopHealth: null,
    status: "stopped",
    lossStreak: 0,
    freezes: [], // freeze counts of the last samples
    suggested: null, // the mode the banner offers
    dismissed: false,
  };

  // Everyone live, except this page's own user while it publishes (no echo of oneself).
  const watched = () =>
    ctx.publishers.filter((p) => !(ctx.presenter?.isLive() && p.user_id === ctx.userId));

  function showMode() {
    for (const button of ctx.root.querySelectorAll("[data-stage-mode]")) {
      button.setAttribute("aria-pressed", String(button.dataset.stageMode === v.mode));
    }
  }

  function tilesFor(pc, feeds) {
    const byMid = new Map(pc.getTransceivers().map((tr) => [tr.mid, tr.receiver.track]));
    return feeds.map((feed) => {
      const tracks = [feed.video, feed.audio].filter((mid) => mid != null).map((mid) => byMid.get(mid));
      const audioOnly = feed.video == null;
      return ctx.tile(feed.display_name, new MediaStream(tracks.filter(Boolean)), { audioOnly });
    });
  }

  function clearTiles() {
    if (v.stopHealth) v.stopHealth();
    v.stopHealth = null;
    ctx.remoteTiles = [];
    ctx.renderGrid();
    $("[data-stage-health]").hidden = true;
    $("[data-stage-modes]").hidden = true;
  }

  async function connect() {
    const presenters = watched();
    if (!presenters.length) return null;
    if (!ctx.onStage || !ctx.live.socket.connected) throw new Error("offline"); // retried
    const link = v.controller;
    const current = () => v.controller === link && link.running;
    clearTiles();
    const iceServers = await ctx.freshIce();
    if (!current()) return null; // stopped meanwhile
    const pc = newPeer(iceServers);
    const count = presenters.length;
    receive(pc, { video: v.mode === "audio" ? 0 : count, audio: count });
    window.__stagePeer = pc;
    // The tiles are there before the answer is applied: media may play at once.
    const send = async (offer) => {
      const answer = await ctx.send("media.watch", { ...offer, mode: v.mode });
      if (answer.ok && current()) {
        ctx.remoteTiles = tilesFor(pc, answer.data.feeds || []);
        ctx.renderGrid();
        $("[data-stage-modes]").hidden = false;
      }
      return answer;
    };
    let reply;
    try {
      reply = await negotiate(pc, send);
    } catch (err) {
      pc.close();
      throw err;
    }
    if (!reply.ok) {
      pc.close();
      if (PERMANENT.includes(reply.error.code)) return null;
      throw new Error(reply.error.code); // timeout, rate limit, a failed offer: again
    }
    if (!current()) return pc; // stopped meanwhile: keepConnected closes pc
    v.stopHealth = watchHealth(pc, onSample);
    v.lossStreak = 0;
    v.freezes = [];
    return pc;
  }

  function onStatus(status) {
    v.status = status;
    if (status === "stopped") {
      v.key = null;
      clearTiles();
      window.__stagePeer = ctx.presenter?.peer() || null;
    }
    ctx.renderStatus();
  }

  // On every media.state / media.live: watch, watch again, or stop.
  function update() {
    const presenters = watched();
    const key = presenters.length ? `${v.mode}|${presenters.map((p) => p.user_id).join(",")}` : null;
    if (key === v.key) return;
    v.key = key;
    if (!key) {
      stop();
    } else if (v.controller?.running) {
      v.controller.refresh();
    } else {
      v.controller = keepConnected({ connect, onStatus });
      v.controller.start();
    }
  }

  function stop() {
    v.key = null;
    v.controller?.stop();
    v.controller = null;
    hideSuggestion();
  }

  // After a socket reconnect: the server closed our peer, so watch again now.
  function resume() {
    if (v.controller?.running) v.controller.retry("socket");
  }

  function setMode(mode) {
    if (!MODES.includes(mode) || mode === v.mode) return;
    v.mode = mode;
    try {
      localStorage.setItem(MODE_KEY, mode);
    } catch {
      // storage disabled: the choice lasts for this page
    }
    showMode();
    hideSuggestion();
    update();
  }

  // Suggestion ----------------------------------------------------------------------------

  function showHealth(sample) {
    const recv = sample.recv;
    const node = $("[data-stage-health]");
    if (!recv) return;
    node.hidden = false;
    node.textContent = t("health-recv", {
      kbps: recv.kbps ?? "–",
      loss: recv.lossPct != null ? `${recv.lossPct}%` : "–",
      fps: recv.fps != null ? Math.round(recv.fps) : "–",
    });
  }

  function onSample(sample) {
    if (v.stopHealth) showHealth(sample);
    const recv = sample.recv;
    if (!recv || v.mode === "audio" || v.dismissed || v.suggested) return;
    v.lossStreak = recv.lossPct != null && recv.lossPct > LOSS_PCT ? v.lossStreak + 1 : 0;
    v.freezes.push(recv.freezeCount || 0);
    if (v.freezes.length > FREEZE_WINDOW + 1) v.freezes.shift();
    const froze = v.freezes[v.freezes.length - 1] - v.freezes[0] >= FREEZES;
    if (v.lossStreak >= LOSS_SAMPLES || froze) suggest(v.mode === "full" ? "low" : "audio");
  }

  function suggest(mode) {
    v.suggested = mode;
    $("[data-stage-suggest-text]").textContent = t(mode === "low" ? "suggest-low" : "suggest-audio");
    $("[data-stage-suggest]").hidden = false;
  }

  function hideSuggestion() {
    v.suggested = null;
    v.lossStreak = 0;
    v.freezes = [];
    $("[data-stage-suggest]").hidden = true;
  }

  for (const button of ctx.root.querySelectorAll("[data-stage-mode]")) {
    button.addEventListener("click", () => setMode(button.dataset.stageMode));
  }
  $("[data-stage-suggest-switch]").addEventListener("click", () => setMode(v.suggested));
  $("[data-stage-suggest-dismiss]").addEventListener("click", () => {
    v.dismissed = true;
    hideSuggestion();
  });
  showMode();

  return {
    update,
    stop,
    resume,
    onSample,
    reconnecting: () => v.status === "reconnecting",
    mode: () => v.mode,
  };
}
