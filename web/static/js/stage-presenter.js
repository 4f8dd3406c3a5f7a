// Presenting on the stage (stage.js wires it): choose camera and microphone, go live, mute,
// turn the camera off, share the screen (replaceTrack on the video sender: nothing is
// renegotiated), stop. While live the presenter sees the health of their own stream
// (outgoing bitrate; loss and round trip from the server's RTCP receiver reports; frame
// rate) and the viewer count. rtc.js keepConnected publishes again, with backoff, when the
// connection breaks or the socket comes back (the server closes a socket's peers when it
// disconnects); the camera keeps running meanwhile.
import { el } from "/static/js/dom.js";
import {
  keepConnected,
  listDevices,
  negotiate,
  newPeer,
  openCamera,
  sendStream,
  setTrackEnabled,
  shareScreen,
  switchDevice,
  watchHealth,
} from "/static/js/rtc.js";

const RETRIED = ["timeout", "rate_limited"];

export function createPresenter(ctx) {
  const { t, $ } = ctx;
  const p = {
    camera: null, // MediaStream from openCamera, kept across reconnects
    senders: null, // {video, audio} of the current peer
    pc: null,
    share: null, // {track, stop} while the screen is shared
    controller: null, // set from "Go live" until stopped
    status: "stopped",
    stopHealth: null,
    micOff: false,
    cameraOff: false,
    starting: false,
    refusal: null, // why the server refused, shown once publishing stopped
  };
  const cameraSelect = $("[data-stage-camera]");
  const micSelect = $("[data-stage-mic]");

  const cameraTrack = () => p.camera?.getVideoTracks()[0] || null;

  function showButtons() {
    const live = Boolean(p.controller);
    $("[data-stage-go-live]").hidden = live;
    $("[data-stage-stop]").hidden = !live;
    $("[data-stage-share]").hidden = !live;
    $("[data-stage-share]").textContent = p.share ? t("stop-share") : t("share");
    const mic = $("[data-stage-mic-toggle]");
    mic.setAttribute("aria-pressed", String(p.micOff));
    mic.textContent = p.micOff ? t("unmute-mic") : t("mute-mic");
    const camera = $("[data-stage-camera-toggle]");
    camera.setAttribute("aria-pressed", String(p.cameraOff));
    camera.textContent = p.cameraOff ? t("camera-on") : t("camera-off");
  }

  function applyToggles() {
    setTrackEnabled(p.camera, "audio", !p.micOff);
    setTrackEnabled(p.camera, "video", !p.cameraOff);
    showButtons();
  }

  // Devices ---------------------------------------------------------------------------

  function fill(select, devices, key, current) {
    const keep = current || select.value;
    select.replaceChildren(
      ...devices.map((d, i) => el("option", { value: d.deviceId, text: d.label || t(key, { n: i + 1 }) })),
    );
    if (keep && devices.some((d) => d.deviceId === keep)) select.value = keep;
  }

  async function fillDevices() {
    const { cameras, microphones } = await listDevices();
    const current = (kind) => p.camera?.getTracks().find((tr) => tr.kind === kind)?.getSettings().deviceId;
    fill(cameraSelect, cameras, "camera-n", current("video"));
    fill(micSelect, microphones, "mic-n", current("audio"));
  }

  async function chooseDevice(kind, deviceId) {
    if (!p.camera || !deviceId) return; // not live: the next "Go live" uses the choice
    try {
      await switchDevice(p.senders?.[kind], p.camera, kind, deviceId);
      applyToggles(); // a muted microphone stays muted, a camera turned off stays off
    } catch (err) {
      ctx.say(t(`camera-${err.code || "failed"}`));
    }
  }

  // Publishing ------------------------------------------------------------------------

  function showHealth(sample) {
    const send = sample.send;
    if (!send) return;
    const node = $("[data-stage-send-health]");
    node.hidden = false;
    node.textContent = t("health-send", {
      kbps: send.kbps ?? "–",
      loss: send.lossPct != null ? `${send.lossPct}%` : "–",
      rtt: send.rttMs ?? sample.rttMs ?? "–",
      fps: send.fps != null ? Math.round(send.fps) : "–",
    });
  }

  function stopHealth() {
    if (p.stopHealth) p.stopHealth();
    p.stopHealth = null;
  }

  async function connect() {
    if (!ctx.onStage || !ctx.live.socket.connected) throw new Error("offline"); // retried
    const link = p.controller;
    stopHealth();
    const iceServers = await ctx.freshIce();
    if (p.controller !== link || !p.camera) return null; // stopped meanwhile
    const pc = newPeer(iceServers);
    p.senders = sendStream(pc, p.camera);
    if (p.share && p.senders.video) await p.senders.video.replaceTrack(p.share.track);
    p.pc = pc;
    window.__stagePublisher = pc;
    if (!window.__stagePeer || window.__stagePeer.connectionState === "closed") window.__stagePeer = pc;
    let reply;
    try {
      reply = await negotiate(pc, (offer) => ctx.send("media.publish", offer));
    } catch (err) {
      pc.close();
      throw err;
    }
    if (!reply.ok) {
      pc.close();
      if (RETRIED.includes(reply.error.code)) throw new Error(reply.error.code);
      p.refusal = reply.error.code === "media.full" ? t("full") : t("failed");
      return null;
    }
    if (p.controller !== link || !link.running) return pc; // stopped meanwhile: it closes pc
    ctx.message = null;
    ctx.renderStatus();
    p.stopHealth = watchHealth(pc, showHealth);
    return pc;
  }

  function onStatus(status) {
    p.status = status;
    if (status === "stopped") endLocal();
    ctx.renderStatus();
  }

  async function goLive() {
    if (p.controller || p.starting) return;
    p.starting = true;
    p.refusal = null;
    ctx.say(t("starting"));
    try {
      p.camera = await openCamera({
        videoDeviceId: cameraSelect.value || undefined,
        audioDeviceId: micSelect.value || undefined,
      });
    } catch (err) {
      ctx.say(t(`camera-${err.code || "failed"}`));
      return;
    } finally {
      p.starting = false;
    }
    applyToggles();
    fillDevices(); // labels are known now that the camera is allowed
    ctx.localTile = ctx.tile(t("you"), p.camera, { local: true });
    ctx.renderGrid();
    p.controller = keepConnected({ connect, onStatus });
    showButtons();
    ctx.viewer.update(); // watch the co-presenters, not oneself
    p.controller.start();
  }

  // Everything local ends: the camera, the preview, the share. The status says why.
  function endLocal() {
    stopHealth();
    p.controller = null;
    p.pc = null;
    p.senders = null;
    if (p.share) {
      p.share.track.stop();
      p.share = null;
    }
    for (const track of p.camera?.getTracks() || []) track.stop();
    p.camera = null;
    ctx.localTile = null;
    ctx.renderGrid();
    $("[data-stage-send-health]").hidden = true;
    if (window.__stagePublisher) window.__stagePublisher = null;
    ctx.message = p.refusal;
    p.refusal = null;
    showButtons();
    ctx.viewer.update();
  }

  function stop(tellServer) {
    if (!p.controller) return;
    if (tellServer) {
      ctx.send("media.unpublish");
      // Not on stage any more (media.live confirms): do not start watching oneself.
      ctx.publishers = ctx.publishers.filter((pub) => pub.user_id !== ctx.userId);
    }
    p.controller.stop(); // -> onStatus("stopped") -> endLocal()
  }

  async function toggleShare() {
    if (p.share) {
      await p.share.stop();
      return;
    }
    try {
      p.share = await shareScreen(() => p.senders?.video, cameraTrack, {
        onEnded: () => {
          p.share = null;
          if (ctx.localTile && p.camera) ctx.localTile.video.srcObject = p.camera;
          showButtons();
        },
      });
      if (ctx.localTile) ctx.localTile.video.srcObject = new MediaStream([p.share.track]);
    } catch (err) {
      if (err.code !== "denied") ctx.say(t("share-failed")); // "denied": the user cancelled
    }
    showButtons();
  }

  $("[data-stage-go-live]").addEventListener("click", goLive);
  $("[data-stage-stop]").addEventListener("click", () => stop(true));
  $("[data-stage-share]").addEventListener("click", toggleShare);
  $("[data-stage-mic-toggle]").addEventListener("click", () => {
    p.micOff = !p.micOff;
    applyToggles();
  });
  $("[data-stage-camera-toggle]").addEventListener("click", () => {
    p.cameraOff = !p.cameraOff;
    applyToggles();
  });
  cameraSelect.addEventListener("change", () => chooseDevice("video", cameraSelect.value));
  micSelect.addEventListener("change", () => chooseDevice("audio", micSelect.value));
  navigator.mediaDevices?.addEventListener?.("devicechange", fillDevices);
  fillDevices();
  showButtons();

  return {
    isLive: () => Boolean(p.controller),
    reconnecting: () => Boolean(p.controller) && p.status === "reconnecting",
    peer: () => p.pc,
    resume: () => {
      if (p.controller?.running) p.controller.retry("socket");
    },
    stop,
  };
}
