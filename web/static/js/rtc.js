// Shared browser WebRTC client for every media room (briefing stage, interview rooms).
// The server is aiortc: no trickle ICE (send the FULL offer once gathering completes), and
// no renegotiation worth relying on (change what is sent with replaceTrack, never by
// adding m-lines; anything bigger is a new RTCPeerConnection). It forwards VP8 and Opus.
//
// Exports (plain ES module, no framework):
//   RtcError                  Error with .code, one of ERROR_CODES:
//                             "denied"    the user or browser refused camera/mic/screen
//                             "no-device" no camera or microphone (or the chosen one is gone)
//                             "in-use"    another application holds the device
//                             "failed"    anything else (and connection failures)
//                             Map .code to a translated string in the page (data-t-*).
//   openCamera({videoDeviceId, audioDeviceId, video = true, audio = true, width, height})
//                             -> Promise<MediaStream>; throws RtcError
//   listDevices()             -> Promise<{cameras: [{deviceId, label}], microphones: [...]}>
//                             (labels are empty until the page has had camera permission)
//   newPeer(iceServers)       -> RTCPeerConnection({iceServers}); pass media.state's ice_servers
//   preferForwardable(transceiver, kind)  put VP8/Opus first (what the server forwards)
//   sendStream(pc, stream)    -> {video: RTCRtpSender|null, audio: RTCRtpSender|null},
//                             sendonly transceivers, forwardable codecs first
//   receive(pc, {video, audio}) add that many recvonly transceivers (video ones first)
//   negotiate(pc, send, {gatherTimeoutMs})  createOffer, wait for ICE gathering, then
//                             `await send({sdp, type})` -> the server's ack envelope
//                             ({ok, data: {sdp, type, ...}} | {ok: false, error}); on ok the
//                             answer is applied. Returns the envelope.
//   setTrackEnabled(stream, kind, enabled)  mute (audio) / camera off (video): the track
//                             keeps flowing as silence / black, so nothing is renegotiated
//   switchDevice(sender, stream, kind, deviceId) -> Promise<MediaStreamTrack>; replaceTrack
//                             to another camera/mic, stops the old track; throws RtcError
//   shareScreen(sender, cameraTrack, {onEnded}) -> Promise<{track, stop()}>; replaceTrack
//                             on the video sender; back to cameraTrack when the share ends
//                             (browser's "Stop sharing" or stop()); throws RtcError.
//                             `sender` (and cameraTrack) may be functions returning the current
//                             video sender (it changes when keepConnected makes a new peer)
//                             and camera track; a new peer must then send share.track itself
//                             (replaceTrack before offering)
//   keepConnected({connect, onStatus, delaysMs}) -> {start(), retry(reason), refresh(), stop(),
//                             pc, running}
//                             the reconnect policy (see below)
//   watchHealth(pc, onSample, {intervalMs = 2000}) -> stop(); getStats sampler (see below)
//   summarize(previousReport, report, seconds) -> sample (the sampler's pure part)
//
// Reconnect policy (keepConnected): `connect()` builds a new peer and negotiates; it
// resolves to the RTCPeerConnection, resolves to null to give up (a permanent refusal:
// not live, not allowed), or throws to be retried. A retry happens when the peer's
// connectionState is "failed", when it stays "disconnected" for more than 3 s, when the
// browser comes back `online` or navigator.connection changes while the peer is not
// connected, and when the caller says so (retry(), e.g. after the socket reconnected,
// since the server closes a socket's peers when it disconnects); refresh() is a planned new
// connection (status "connecting", not "reconnecting"). Retries back off
// (delaysMs, last delay repeated). onStatus(state) hears "connecting", "connected",
// "reconnecting" (show it), and "stopped" (after stop(), or when connect() gave up: the
// caller has already said why, so do not overwrite that message). The policy itself is
// logic/reconnect.js (tested under Node, tests/js); keepConnected gives it the browser's
// network events.
//
// Health sample (every intervalMs): {
//   send: {kbps, fps, lossPct, rttMs, width, height} | null   outbound video+audio; loss
//         and RTT come from the server's RTCP receiver reports (remote-inbound-rtp),
//   recv: {kbps, lossPct, fps, framesDecoded, freezeCount, audioPackets, videoTracks} | null
//         lossPct is inbound VIDEO loss over the interval; fps the slowest video track,
//   rttMs (selected candidate pair, or the remote-inbound one),
//   tracks: [{mid, kind, kbps, lossPct, fps, framesDecoded, frameWidth, frameHeight,
//             packetsReceived, freezeCount}] inbound, per m-line }
// Values that are not known yet are null.

import { RETRY_DELAYS_MS } from "/static/js/logic/backoff.js";
import { DISCONNECTED_GRACE_MS, createReconnector } from "/static/js/logic/reconnect.js";

export { summarize, watchHealth } from "/static/js/rtc-health.js";

export const ERROR_CODES = ["denied", "no-device", "in-use", "failed"];
const GATHER_TIMEOUT_MS = 5000;

export class RtcError extends Error {
  constructor(code, cause) {
    super(code);
    this.name = "RtcError";
    this.code = code;
    this.cause = cause;
  }
}

function mediaError(err) {
  if (err instanceof RtcError) return err;
  const name = err && err.name;
  if (name === "NotAllowedError" || name === "SecurityError" || name === "PermissionDeniedError") {
    return new RtcError("denied", err);
  }
  if (name === "NotFoundError" || name === "OverconstrainedError" || name === "DevicesNotFoundError") {
    return new RtcError("no-device", err);
  }
  if (name === "NotReadableError" || name === "TrackStartError" || name === "AbortError") {
    return new RtcError("in-use", err);
  }
  return new RtcError("failed", err);
}

function videoConstraints({ videoDeviceId, width = 640, height = 360 }) {
  const video = { width: { ideal: width }, height: { ideal: height }, frameRate: { ideal: 30 } };
  if (videoDeviceId) video.deviceId = { exact: videoDeviceId };
  return video;
}

function audioConstraints({ audioDeviceId }) {
  const audio = { echoCancellation: true, noiseSuppression: true };
  if (audioDeviceId) audio.deviceId = { exact: audioDeviceId };
  return audio;
}

export async function openCamera(options = {}) {
  const { video = true, audio = true } = options;
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    throw new RtcError("failed"); // insecure context (http, not localhost) or a very old browser
  }
  try {
    return await navigator.mediaDevices.getUserMedia({
      video: video ? videoConstraints(options) : false,
      audio: audio ? audioConstraints(options) : false,
    });
  } catch (err) {
    throw mediaError(err);
  }
}

export async function listDevices() {
  const found = { cameras: [], microphones: [] };
  if (!navigator.mediaDevices || !navigator.mediaDevices.enumerateDevices) return found;
  for (const device of await navigator.mediaDevices.enumerateDevices()) {
    const entry = { deviceId: device.deviceId, label: device.label };
    if (device.kind === "videoinput") found.cameras.push(entry);
    if (device.kind === "audioinput") found.microphones.push(entry);
  }
  return found;
}

export function newPeer(iceServers = []) {
  return new RTCPeerConnection({ iceServers: iceServers || [] });
}

export function preferForwardable(transceiver, kind) {
  if (!transceiver.setCodecPreferences || !RTCRtpReceiver.getCapabilities) return;
  const wanted = kind === "video" ? ["video/vp8", "video/rtx"] : ["audio/opus"];
  const codecs = (RTCRtpReceiver.getCapabilities(kind)?.codecs || []).filter((c) =>
    wanted.includes(c.mimeType.toLowerCase()),
  );
  if (codecs.length) transceiver.setCodecPreferences(codecs);
}

export function sendStream(pc, stream) {
  const senders = { video: null, audio: null };
  for (const kind of ["video", "audio"]) {
    const track = stream.getTracks().find((t) => t.kind === kind);
    if (!track) continue;
    const transceiver = pc.addTransceiver(track, { direction: "sendonly", streams: [stream] });
    preferForwardable(transceiver, kind);
    senders[kind] = transceiver.sender;
  }
  return senders;
}

export function receive(pc, { video = 0, audio = 0 }) {
  for (const [kind, count] of [["video", video], ["audio", audio]]) {
    for (let i = 0; i < count; i += 1) {
      preferForwardable(pc.addTransceiver(kind, { direction: "recvonly" }), kind);
    }
  }
}

function gathered(pc, timeoutMs) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      if (pc.iceGatheringState !== "complete") return;
      pc.removeEventListener("icegatheringstatechange", done);
      resolve();
    };
    pc.addEventListener("icegatheringstatechange", done);
    setTimeout(resolve, timeoutMs); // send the candidates we have rather than hang
  });
}

export async function negotiate(pc, send, { gatherTimeoutMs = GATHER_TIMEOUT_MS } = {}) {
  await pc.setLocalDescription(await pc.createOffer());
  await gathered(pc, gatherTimeoutMs);
  const offer = pc.localDescription;
  const reply = await send({ sdp: offer.sdp, type: "offer" });
  if (reply && reply.ok && pc.signalingState !== "closed") {
    await pc.setRemoteDescription({ type: reply.data.type, sdp: reply.data.sdp });
  }
  return reply;
}

export function setTrackEnabled(stream, kind, enabled) {
  for (const track of stream?.getTracks() || []) if (track.kind === kind) track.enabled = enabled;
}

export async function switchDevice(sender, stream, kind, deviceId) {
  let fresh;
  try {
    fresh = await navigator.mediaDevices.getUserMedia(
      kind === "video"
        ? { video: videoConstraints({ videoDeviceId: deviceId }) }
        : { audio: audioConstraints({ audioDeviceId: deviceId }) },
    );
  } catch (err) {
    throw mediaError(err);
  }
  const track = fresh.getTracks()[0];
  const old = stream.getTracks().find((t) => t.kind === kind);
  if (old) {
    track.enabled = old.enabled; // a muted microphone stays muted on the new device
    stream.removeTrack(old);
    old.stop();
  }
  stream.addTrack(track);
  // While a screen is shared the video sender carries it: the new camera waits.
  if (sender && (kind !== "video" || sender.track === old || sender.track === null)) {
    await sender.replaceTrack(track);
  }
  return track;
}

export async function shareScreen(sender, cameraTrack, { onEnded = () => {} } = {}) {
  if (!navigator.mediaDevices || !navigator.mediaDevices.getDisplayMedia) throw new RtcError("failed");
  let screen;
  try {
    screen = await navigator.mediaDevices.getDisplayMedia({
      video: { width: { max: 1280 }, height: { max: 720 }, frameRate: { max: 15 } },
      audio: false,
    });
  } catch (err) {
    throw mediaError(err);
  }
  const track = screen.getVideoTracks()[0];
  if ("contentHint" in track) track.contentHint = "detail"; // slides: sharp text over motion
  const current = () => (typeof sender === "function" ? sender() : sender);
  const camera = () => (typeof cameraTrack === "function" ? cameraTrack() : cameraTrack);
  let ended = false;
  const stop = async () => {
    if (ended) return;
    ended = true;
    track.stop();
    const now = current();
    if (now && now.track === track) await now.replaceTrack(camera() || null);
    onEnded();
  };
  track.addEventListener("ended", stop); // the browser's own "Stop sharing" button
  const now = current();
  if (now) await now.replaceTrack(track);
  return { track, stop };
}

// The browser's network signals for the reconnect policy: back `online`, or another
// connection type (navigator.connection, where there is one).
function watchNetwork(listener) {
  window.addEventListener("online", listener);
  navigator.connection?.addEventListener?.("change", listener);
  return () => {
    window.removeEventListener("online", listener);
    navigator.connection?.removeEventListener?.("change", listener);
  };
}

export function keepConnected({ connect, onStatus = () => {}, delaysMs = RETRY_DELAYS_MS }) {
  return createReconnector({ connect, onStatus, delaysMs, graceMs: DISCONNECTED_GRACE_MS, watchNetwork });
}
