// The stats/health sampler of rtc.js (re-exported there; import it from rtc.js): getStats
// every 2 s, summarised as bitrate, packet loss, round-trip time and frame rate. The sample's
// shape is documented at the top of rtc.js.

const num = (v) => (typeof v === "number" && Number.isFinite(v) ? v : null);
const round = (v, digits = 0) => (v == null ? null : Number(v.toFixed(digits)));

function kbps(now, before, seconds) {
  if (!before || seconds <= 0) return null;
  return ((now - before) * 8) / 1000 / seconds;
}

function lossPct(lost, received, before) {
  if (!before) return null;
  const dl = Math.max(0, (lost || 0) - (before.packetsLost || 0));
  const dr = Math.max(0, (received || 0) - (before.packetsReceived || 0));
  return dl + dr > 0 ? (100 * dl) / (dl + dr) : 0;
}

const emptySend = () => ({ kbps: 0, fps: null, lossPct: null, rttMs: null, width: null, height: null });

export function summarize(previous, report, seconds) {
  const prev = (id) => previous?.get?.(id);
  const sample = { time: Date.now(), send: null, recv: null, rttMs: null, tracks: [] };
  let pairRtt = null;
  let remoteRtt = null;
  report.forEach((s) => {
    if (s.type === "candidate-pair" && s.nominated && s.state === "succeeded") {
      pairRtt = num(s.currentRoundTripTime);
    }
    if (s.type === "outbound-rtp") {
      const send = (sample.send ||= emptySend());
      send.kbps += kbps(s.bytesSent, prev(s.id)?.bytesSent, seconds) || 0;
      if (s.kind === "video") {
        send.fps = num(s.framesPerSecond);
        send.width = num(s.frameWidth);
        send.height = num(s.frameHeight);
      }
    }
    if (s.type === "remote-inbound-rtp") {
      // The server's RTCP receiver reports about what we send: video wins over audio.
      const send = (sample.send ||= emptySend());
      if (s.kind === "video" || send.lossPct == null) {
        send.lossPct = num(s.fractionLost) != null ? s.fractionLost * 100 : null;
        send.rttMs = num(s.roundTripTime) != null ? s.roundTripTime * 1000 : null;
        remoteRtt = send.rttMs;
      }
    }
    if (s.type === "inbound-rtp") {
      const before = prev(s.id);
      const track = {
        mid: s.mid ?? null,
        kind: s.kind,
        kbps: kbps(s.bytesReceived, before?.bytesReceived, seconds),
        lossPct: lossPct(s.packetsLost, s.packetsReceived, before),
        fps: num(s.framesPerSecond),
        framesDecoded: num(s.framesDecoded),
        frameWidth: num(s.frameWidth),
        frameHeight: num(s.frameHeight),
        packetsReceived: num(s.packetsReceived) ?? 0,
        freezeCount: num(s.freezeCount),
      };
      sample.tracks.push(track);
    }
  });
  if (sample.tracks.length) {
    const video = sample.tracks.filter((t) => t.kind === "video" && t.packetsReceived > 0);
    const lost = video.map((t) => t.lossPct).filter((v) => v != null);
    const fps = video.map((t) => t.fps).filter((v) => v != null);
    sample.recv = {
      kbps: round(sample.tracks.reduce((sum, t) => sum + (t.kbps || 0), 0), 0),
      lossPct: lost.length ? round(Math.max(...lost), 1) : null,
      fps: fps.length ? Math.min(...fps) : null,
      framesDecoded: video.reduce((sum, t) => sum + (t.framesDecoded || 0), 0),
      freezeCount: video.reduce((sum, t) => sum + (t.freezeCount || 0), 0),
      audioPackets: sample.tracks
        .filter((t) => t.kind === "audio")
        .reduce((sum, t) => sum + t.packetsReceived, 0),
      videoTracks: video.length,
    };
  }
  if (sample.send) {
    sample.send.kbps = round(sample.send.kbps, 0);
    sample.send.lossPct = round(sample.send.lossPct, 1);
    sample.send.rttMs = round(sample.send.rttMs, 0);
  }
  sample.rttMs = round(pairRtt != null ? pairRtt * 1000 : remoteRtt, 0);
  return sample;
}

export function watchHealth(pc, onSample, { intervalMs = 2000 } = {}) {
  let previous = null;
  let previousAt = 0;
  let stopped = false;
  const tick = async () => {
    if (stopped || pc.connectionState === "closed") return;
    try {
      const report = await pc.getStats();
      const at = performance.now();
      const sample = summarize(previous, report, (at - previousAt) / 1000);
      previous = report;
      previousAt = at;
      if (!stopped) onSample(sample);
    } catch {
      // A peer closing under us: the next tick (or stop) settles it.
    }
  };
  const timer = setInterval(tick, intervalMs);
  tick();
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}
