// The interview room's media (I2, I3): this participant's camera and microphone go to the
// server (interview.publish), and every other publishing participant comes back from the
// server on a peer of its own (interview.watch). Media never goes browser to browser, so
// nobody learns anybody's address. rtc.js does the WebRTC work: full-SDP negotiation (aiortc
// has no trickle ICE), device errors, replaceTrack for screen share and device switches (no
// renegotiation), and the reconnect policy (failed peers, network changes).
//
// Test hook: window.__interviewPeers maps a user id to the RTCPeerConnection receiving them
// (tests/e2e/test_interview.py reads its getStats()).
import {
  keepConnected,
  listDevices,
  negotiate,
  newPeer,
  openCamera,
  receive,
  sendStream,
  setTrackEnabled,
  shareScreen,
  switchDevice,
} from "/static/js/rtc.js";
import { el } from "/static/js/dom.js";

// Refusals that another attempt cannot change: stop trying until the room says otherwise.
const PERMANENT = new Set([
  "not_found",
  "interview.ended",
  "interview.not_admitted",
  "interview.not_publishing",
  "request.invalid",
]);

// ctx: {t, $, live, interviewId, me, iceServers(), mediaStatus(text), notice(text)}
export function createMedia(ctx) {
  const { t, $ } = ctx;
  const m = {
    camera: null, // MediaStream from getUserMedia
    starting: null, // the camera promise while it opens
    senders: { video: null, audio: null }, // of the current publishing peer
    publisher: null, // keepConnected link sending our camera
    watchers: new Map(), // user id -> {serial, tile, video, caption, link}
    share: null, // {track, stop()} while the screen is shared
    muted: false,
    cameraOff: false,
    soundBlocked: false,
  };
  const peers = new Map();
  window.__interviewPeers = peers;

  async function signal(pc, event, extra) {
    const reply = await negotiate(pc, (offer) =>
      ctx.live.emitWithAck(event, { interview_id: ctx.interviewId, ...extra, ...offer }),
    );
    if (reply.ok) return pc;
    pc.close();
    if (PERMANENT.has(reply.error.code)) return null;
    throw new Error(reply.error.code); // keepConnected tries again, backing off
  }

  // --- our camera -----------------------------------------------------------------------

  async function startCamera() {
    if (m.camera) return m.camera;
    if (!m.starting) {
      ctx.mediaStatus(t("camera-starting"));
      m.starting = openCamera({})
        .then((stream) => {
          m.camera = stream;
          $("[data-local-video]").srcObject = stream;
          fillDevices();
          return stream;
        })
        .catch((err) => {
          ctx.notice(t(`camera-${err.code || "failed"}`));
          ctx.mediaStatus("");
          return null;
        })
        .finally(() => {
          m.starting = null;
        });
    }
    return m.starting;
  }

  async function connectPublisher() {
    const pc = newPeer(ctx.iceServers());
    m.senders = sendStream(pc, m.camera);
    if (m.share && m.senders.video) await m.senders.video.replaceTrack(m.share.track);
    window.__interviewPublisher = pc;
    return signal(pc, "interview.publish", {});
  }

  function publisherStatus(status) {
    if (status === "connected") ctx.mediaStatus(t("media-connected"));
    else if (status === "connecting") ctx.mediaStatus(t("media-connecting"));
    else if (status === "reconnecting") ctx.mediaStatus(t("media-reconnecting"));
  }

  async function publish() {
    if (!(await startCamera())) return;
    if (m.publisher?.running) {
      m.publisher.retry("socket"); // the server closed our peers when the socket dropped
      return;
    }
    m.publisher = keepConnected({ connect: connectPublisher, onStatus: publisherStatus });
    m.publisher.start();
  }

  // --- the others -----------------------------------------------------------------------

  function play(video) {
    video.muted = m.soundBlocked;
    video.play().catch(() => {
      // Sound needs a click on this page first: play muted, offer the button.
      m.soundBlocked = true;
      $("[data-sound]").hidden = false;
      video.muted = true;
      video.play().catch(() => {});
    });
  }

  async function connectViewer(userId, w) {
    const pc = newPeer(ctx.iceServers());
    receive(pc, { video: 1, audio: 1 });
    const stream = new MediaStream();
    pc.addEventListener("track", (event) => {
      stream.addTrack(event.track);
      w.video.srcObject = stream;
      play(w.video);
    });
    peers.set(userId, pc);
    return signal(pc, "interview.watch", { user_id: userId });
  }

  function watch(publisher) {
    const video = el("video", { autoplay: "", playsinline: "", "data-remote-video": String(publisher.user_id) });
    const caption = el("figcaption", { text: publisher.display_name });
    const tile = el("figure", { class: "tile" }, video, caption);
    $("[data-videos]").append(tile);
    const w = { serial: publisher.serial, tile, video, caption, link: null };
    w.link = keepConnected({ connect: () => connectViewer(publisher.user_id, w) });
    m.watchers.set(publisher.user_id, w);
    w.link.start();
  }

  function unwatch(userId) {
    const w = m.watchers.get(userId);
    if (!w) return;
    w.link.stop();
    w.tile.remove();
    m.watchers.delete(userId);
    peers.delete(userId);
  }

  // Watch exactly the others who publish; someone who published again gets a new peer.
  function sync(publishers) {
    const wanted = new Map(publishers.filter((p) => p.user_id !== ctx.me).map((p) => [p.user_id, p]));
    for (const userId of [...m.watchers.keys()]) if (!wanted.has(userId)) unwatch(userId);
    for (const [userId, publisher] of wanted) {
      const w = m.watchers.get(userId);
      if (!w) {
        watch(publisher);
        continue;
      }
      w.caption.textContent = publisher.display_name;
      if (w.serial !== publisher.serial || !w.link.running) {
        w.serial = publisher.serial;
        if (w.link.running) w.link.refresh();
        else w.link.start();
      }
    }
  }

  // After the socket came back: the server closed every peer of the old socket.
  function reconnect(publishers) {
    if (m.publisher?.running) m.publisher.retry("socket");
    for (const w of m.watchers.values()) if (w.link.running) w.link.retry("socket");
    sync(publishers);
  }

  function stopAll() {
    for (const userId of [...m.watchers.keys()]) unwatch(userId);
    m.publisher?.stop();
    m.publisher = null;
    m.share?.stop();
    for (const track of m.camera?.getTracks() || []) track.stop();
    m.camera = null;
    $("[data-local-video]").srcObject = null;
  }

  // --- controls -------------------------------------------------------------------------

  function toggleMute() {
    m.muted = !m.muted;
    setTrackEnabled(m.camera, "audio", !m.muted);
    const button = $("[data-mute]");
    button.textContent = m.muted ? t("unmute") : t("mute");
    button.setAttribute("aria-pressed", String(m.muted));
  }

  function toggleCamera() {
    m.cameraOff = !m.cameraOff;
    setTrackEnabled(m.camera, "video", !m.cameraOff);
    const button = $("[data-camera]");
    button.textContent = m.cameraOff ? t("camera-on") : t("camera-off");
    button.setAttribute("aria-pressed", String(m.cameraOff));
  }

  function shareEnded() {
    m.share = null;
    $("[data-share]").textContent = t("share");
  }

  async function toggleShare() {
    if (m.share) return m.share.stop();
    try {
      m.share = await shareScreen(
        () => m.senders.video,
        () => m.camera?.getVideoTracks()[0] || null,
        { onEnded: shareEnded },
      );
      $("[data-share]").textContent = t("stop-share");
    } catch (err) {
      if (err.code !== "denied") ctx.notice(t("share-failed")); // "denied": the user said no
    }
  }

  function soundOn() {
    m.soundBlocked = false;
    $("[data-sound]").hidden = true;
    for (const w of m.watchers.values()) play(w.video);
  }

  async function fillDevices() {
    const { cameras, microphones } = await listDevices();
    for (const [selector, devices, kind] of [
      ["[data-camera-select]", cameras, "video"],
      ["[data-mic-select]", microphones, "audio"],
    ]) {
      const current = m.camera?.getTracks().find((track) => track.kind === kind)?.getSettings().deviceId;
      const select = $(selector);
      select.replaceChildren(
        ...devices.map((d, i) => el("option", { value: d.deviceId, text: d.label || `${kind} ${i + 1}` })),
      );
      if (current) select.value = current;
    }
  }

  async function chooseDevice(kind, deviceId) {
    if (!m.camera || !deviceId) return;
    try {
      await switchDevice(m.senders[kind], m.camera, kind, deviceId);
      if (kind === "video") setTrackEnabled(m.camera, "video", !m.cameraOff);
    } catch (err) {
      ctx.notice(t(`camera-${err.code || "failed"}`));
    }
  }

  function bind() {
    $("[data-mute]").addEventListener("click", toggleMute);
    $("[data-camera]").addEventListener("click", toggleCamera);
    $("[data-share]").addEventListener("click", toggleShare);
    $("[data-sound]").addEventListener("click", soundOn);
    $("[data-camera-select]").addEventListener("change", (e) => chooseDevice("video", e.target.value));
    $("[data-mic-select]").addEventListener("change", (e) => chooseDevice("audio", e.target.value));
    if (!navigator.mediaDevices?.getDisplayMedia) $("[data-share]").hidden = true; // phones
  }

  return { bind, publish, sync, reconnect, stopAll };
}
