// The briefing stage (P1 go live, P2 watch): presenters publish camera and microphone,
// everyone seated in the briefing watches, over WebRTC through the server's forwarding
// core. Signalling is the socket's media.* events with FULL SDP: the server (aiortc) has
// no trickle ICE, so each offer is sent once ICE gathering is complete.
//
// It shares the page's briefing socket with briefing.js (sharedLive("briefing")); its own
// joins on that socket are idempotent on the server. Strings come from data-t-*
// attributes; text via textContent.
//
// Test hook: window.__stagePeer is the RTCPeerConnection currently watching or
// publishing (tests/e2e/test_stage.py reads its getStats()).
import { sharedLive } from "/static/js/live.js";
import { translator } from "/static/js/dom.js";

const root = document.getElementById("stage");
const t = translator(root || document.body);
const $ = (selector) => root.querySelector(selector);
const GATHER_TIMEOUT_MS = 5000;

const state = {
  briefingId: Number(root?.dataset.briefing),
  fair: root?.dataset.fair,
  presenter: root?.dataset.presenter === "yes",
  live: null,
  watching: null, // RTCPeerConnection receiving the stage
  publishing: null, // RTCPeerConnection sending this presenter's camera
  camera: null, // the MediaStream from getUserMedia
  busy: false,
  onStage: false,
  primary: null, // user id of the presenter being watched
};

function setStatus(text) {
  $("[data-stage-status]").textContent = text;
}

function showViewers(n) {
  const node = $("[data-stage-viewers]");
  if (node) node.textContent = t("viewers", { n });
}

// Forwarded media is VP8 and Opus only: put them first so the browser sends them.
function preferForwardable(transceiver, kind) {
  if (!transceiver.setCodecPreferences || !RTCRtpReceiver.getCapabilities) return;
  const wanted = kind === "video" ? ["video/vp8", "video/rtx"] : ["audio/opus"];
  const codecs = (RTCRtpReceiver.getCapabilities(kind)?.codecs || []).filter((c) =>
    wanted.includes(c.mimeType.toLowerCase()),
  );
  if (codecs.length) transceiver.setCodecPreferences(codecs);
}

function gathered(pc) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      if (pc.iceGatheringState !== "complete") return;
      pc.removeEventListener("icegatheringstatechange", done);
      resolve();
    };
    pc.addEventListener("icegatheringstatechange", done);
    setTimeout(resolve, GATHER_TIMEOUT_MS); // send what we have rather than hang
  });
}

// Offer, wait for every candidate, send the full SDP, apply the answer.
async function negotiate(pc, event) {
  await pc.setLocalDescription(await pc.createOffer());
  await gathered(pc);
  const offer = pc.localDescription;
  const reply = await state.live.emitWithAck(event, {
    briefing_id: state.briefingId,
    sdp: offer.sdp,
    type: "offer",
  });
  if (reply.ok) await pc.setRemoteDescription({ type: reply.data.type, sdp: reply.data.sdp });
  return reply;
}

function watchEnded(pc, onEnd) {
  pc.addEventListener("connectionstatechange", () => {
    if (["failed", "closed"].includes(pc.connectionState)) onEnd();
  });
}

// Viewing ---------------------------------------------------------------------------

function showPublishers(publishers) {
  const names = publishers.map((p) => p.display_name).join(", ");
  setStatus(publishers.length ? t("live-by", { names }) : t("not-live"));
}

async function watch() {
  if (state.watching || state.publishing || state.busy) return;
  state.busy = true;
  const pc = new RTCPeerConnection();
  state.watching = pc;
  window.__stagePeer = pc;
  const stream = new MediaStream();
  for (const kind of ["video", "audio"]) {
    preferForwardable(pc.addTransceiver(kind, { direction: "recvonly" }), kind);
  }
  pc.addEventListener("track", (event) => {
    stream.addTrack(event.track);
    const video = $("[data-stage-video]");
    video.srcObject = stream;
    video.play().catch(() => {}); // muted autoplay is allowed; a refusal is not an error here
  });
  watchEnded(pc, () => stopWatching());
  try {
    const reply = await negotiate(pc, "media.watch");
    if (!reply.ok) {
      stopWatching();
      if (reply.error.code === "media.not_live") setStatus(t("not-live"));
      return;
    }
    showPublishers(reply.data.publishers);
    state.primary = reply.data.publishers[0]?.user_id ?? null;
    $("[data-stage-screen]").hidden = false;
    $("[data-stage-unmute]").hidden = false;
  } catch (err) {
    stopWatching();
    setStatus(t("failed"));
  } finally {
    state.busy = false;
  }
}

function stopWatching() {
  const pc = state.watching;
  if (!pc) return;
  state.watching = null;
  pc.close();
  if (!state.publishing) {
    $("[data-stage-video]").srcObject = null;
    $("[data-stage-screen]").hidden = true;
    $("[data-stage-unmute]").hidden = true;
  }
}

function toggleMute() {
  const video = $("[data-stage-video]");
  video.muted = !video.muted;
  $("[data-stage-unmute]").textContent = video.muted ? t("unmute") : t("mute");
}

// Publishing ------------------------------------------------------------------------

function cameraError(err) {
  if (err && (err.name === "NotAllowedError" || err.name === "SecurityError")) return t("camera-denied");
  if (err && (err.name === "NotFoundError" || err.name === "OverconstrainedError")) return t("no-camera");
  return t("failed");
}

async function goLive() {
  if (state.publishing || state.busy) return;
  state.busy = true;
  stopWatching();
  setStatus(t("starting"));
  try {
    state.camera = await navigator.mediaDevices.getUserMedia({
      video: { width: 640, height: 360 },
      audio: true,
    });
  } catch (err) {
    state.busy = false;
    setStatus(cameraError(err));
    return;
  }
  const pc = new RTCPeerConnection();
  state.publishing = pc;
  window.__stagePeer = pc;
  for (const track of state.camera.getTracks()) {
    const transceiver = pc.addTransceiver(track, { direction: "sendonly", streams: [state.camera] });
    preferForwardable(transceiver, track.kind);
  }
  watchEnded(pc, () => stopPublishing(false));
  try {
    const reply = await negotiate(pc, "media.publish");
    if (!reply.ok) {
      stopPublishing(false);
      setStatus(reply.error.code === "media.full" ? t("full") : t("failed"));
      return;
    }
    const video = $("[data-stage-video]");
    video.srcObject = state.camera; // the presenter's own preview, always muted
    $("[data-stage-screen]").hidden = false;
    $("[data-stage-go-live]").hidden = true;
    $("[data-stage-stop]").hidden = false;
    setStatus(t("you-are-live"));
  } catch (err) {
    stopPublishing(false);
    setStatus(t("failed"));
  } finally {
    state.busy = false;
  }
}

function stopPublishing(tellServer) {
  const pc = state.publishing;
  if (!pc) return;
  state.publishing = null;
  if (tellServer) state.live.emitWithAck("media.unpublish", { briefing_id: state.briefingId });
  pc.close();
  for (const track of state.camera?.getTracks() || []) track.stop();
  state.camera = null;
  $("[data-stage-video]").srcObject = null;
  $("[data-stage-screen]").hidden = true;
  $("[data-stage-go-live]").hidden = false;
  $("[data-stage-stop]").hidden = true;
  setStatus(t("not-live"));
}

// Wiring ----------------------------------------------------------------------------

async function onSnapshot(snapshot) {
  state.onStage = true;
  showViewers(snapshot.viewers);
  const reply = await state.live.emitWithAck("media.state", { briefing_id: state.briefingId });
  if (!reply.ok) return;
  showPublishers(reply.data.publishers);
  if (reply.data.live) watch();
}

function onStatus(status) {
  if (status === "offline") {
    // The server closed this connection's peers; the rejoin's snapshot starts over.
    state.onStage = false;
    stopWatching();
    stopPublishing(false);
    setStatus(t("connecting"));
  }
}

function start() {
  state.live = sharedLive("briefing"); // the Q&A's socket, when briefing.js runs too
  state.live.addStatusListener(onStatus);
  state.live.on("media.live", (event) => {
    if (event.briefing_id !== state.briefingId) return;
    if (!state.publishing) showPublishers(event.publishers);
    // Viewers watch the first presenter: when that changes, watch again.
    const primary = event.publishers[0]?.user_id ?? null;
    if (!event.live || (state.watching && primary !== state.primary)) stopWatching();
    if (event.live && state.onStage) watch();
  });
  state.live.on("briefing.viewers", (event) => showViewers(event.viewers));
  state.live.on("briefing.banned", () => {
    state.live.forget("briefing.join");
    stopWatching();
    stopPublishing(false);
  });
  $("[data-stage-unmute]").addEventListener("click", toggleMute);
  $("[data-stage-go-live]")?.addEventListener("click", goLive);
  $("[data-stage-stop]")?.addEventListener("click", () => stopPublishing(true));
  state.live.join("fair.join", { fair: state.fair });
  state.live.join("briefing.join", { briefing_id: state.briefingId }, onSnapshot);
}

if (root && root.querySelector("[data-stage-status]") && window.RTCPeerConnection) start();
