// Recording a briefing (P7): presenters start and stop it; everyone in the briefing sees
// the "● Recording" indicator while it runs (recording.state, and recording.status after
// every (re)join). It uses the page's one briefing socket (sharedLive("briefing")), whose
// joins briefing.js and stage.js make. Strings come from data-t-* attributes.
import { sharedLive } from "/static/js/live.js";
import { translator } from "/static/js/dom.js";

const root = document.getElementById("recording");
const t = translator(root || document.body);
const $ = (selector) => root.querySelector(selector);

const state = { briefingId: Number(root?.dataset.briefing), live: null, on: false, busy: false };
const plainLabel = root?.querySelector("[data-recording-label]")?.textContent || "";

function timeOf(iso) {
  try {
    return new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  } catch {
    return "";
  }
}

function show(event) {
  const wasOn = state.on;
  state.on = Boolean(event.on);
  $("[data-recording-indicator]").hidden = !state.on;
  const label = $("[data-recording-label]");
  label.textContent = event.started_at ? t("since", { time: timeOf(event.started_at) }) : plainLabel;
  const start = $("[data-recording-start]");
  const stop = $("[data-recording-stop]");
  if (start) start.hidden = state.on;
  if (stop) stop.hidden = !state.on;
  // A recording just finished: its replay is a click away.
  if (wasOn && !state.on) $("[data-replay-link]").hidden = false;
}

function showError(text) {
  const node = $("[data-recording-error]");
  if (node) node.textContent = text;
}

async function control(event) {
  if (state.busy) return;
  state.busy = true;
  showError("");
  try {
    const reply = await state.live.emitWithAck(event, { briefing_id: state.briefingId });
    if (reply.ok) show(reply.data);
    else showError(reply.error.code === "recording.not_live" ? t("not-live") : t("failed"));
  } finally {
    state.busy = false;
  }
}

async function refresh() {
  const reply = await state.live.emitWithAck("recording.status", { briefing_id: state.briefingId });
  if (reply.ok) show(reply.data);
}

function start() {
  state.live = sharedLive("briefing");
  state.live.on("recording.state", (event) => {
    if (event.briefing_id === state.briefingId) show(event);
  });
  // "online" comes once every join of the page (the briefing seat) is done.
  state.live.addStatusListener((status) => {
    if (status === "online") refresh();
  });
  $("[data-recording-start]")?.addEventListener("click", () => control("recording.start"));
  $("[data-recording-stop]")?.addEventListener("click", () => control("recording.stop"));
}

if (root && root.querySelector("[data-recording-indicator]")) start();
