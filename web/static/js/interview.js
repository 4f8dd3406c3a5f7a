// The interview room page (I2 waiting room, panel, chat and timer; I3 consent and the
// recording indicator). The server decides who is where; this file shows it. The candidate
// waits until an interviewer admits them (interview.admitted in their own user room, then
// they join again); only then do camera, other participants' video and the chat start.
// Media is interview-media.js. Strings come from the data-t-* attributes of the template;
// user text is always set with textContent.
import { Live, newClientId } from "/static/js/live.js";
import { el, translator } from "/static/js/dom.js";
import { createMedia } from "/static/js/interview-media.js";
import { minutesLeft, timerState, untilOpen } from "/static/js/logic/interview-timer.js";

const root = document.getElementById("interview");
const t = translator(root || document.body);
// A booked slot's strings (opening, timer, wrap-up, hand-off) live in their own block.
const ts = translator(document.querySelector("[data-slot-strings]") || root || document.body);
const $ = (selector) => root.querySelector(selector);
const show = (node, visible) => node && (node.hidden = !visible);
const timeOf = (iso) => new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });

const state = {
  id: Number(root?.dataset.interviewId),
  me: Number(root?.dataset.userId),
  interviewer: root?.dataset.role === "interviewer",
  admitted: false,
  inRoom: false, // admitted and media started at least once
  over: false, // ended, or we left
  ice: [],
  startedAt: null,
  skew: 0, // this browser's clock minus the server's, in ms
  slot: null, // a booked slot's times (snapshot.slot), or null
  notOpen: false, // a booked slot's room that has not opened to us yet
  opening: null, // the timer that joins again when it opens
  recording: false,
  publishers: [],
  messages: new Set(),
};
let live = null;
let media = null;

function notice(text) {
  const node = $("[data-notice]");
  node.textContent = text;
  show(node, Boolean(text));
}

function setStatus(text) {
  $("[data-status]").textContent = text;
}

// --- people, the waiting room, the timer ------------------------------------------------

function personText(p, ownerId) {
  const role = t(p.role);
  const where = p.present ? (p.admitted ? t("present") : t("waiting-room")) : t("absent");
  const consent = p.consented ? t("consents") : t("no-consent");
  const owner = p.user_id === ownerId ? [ts("owner")] : []; // who has it after a hand-off
  return [`${p.display_name}${p.user_id === state.me ? ` (${t("you")})` : ""}`, role, ...owner, where, consent].join(" · ");
}

function renderPeople({ participants, state: interviewState, started_at: startedAt, owner_id: ownerId }) {
  $("[data-people]").replaceChildren(...participants.map((p) => el("li", { text: personText(p, ownerId) })));
  // Someone on the panel (added, or handed the interview) is no longer offered to add.
  const onPanel = new Set(participants.map((p) => String(p.user_id)));
  for (const option of root.querySelectorAll("[data-add-form] option")) if (onPanel.has(option.value)) option.remove();
  const knocking = participants.find((p) => p.role === "candidate" && p.present && !p.admitted);
  if (state.interviewer) {
    show($("[data-knock]"), Boolean(knocking));
    if (knocking) $("[data-knock-text]").textContent = t("knocking", { name: knocking.display_name });
  }
  const mine = participants.find((p) => p.user_id === state.me);
  if (mine) $("[data-consent]").checked = mine.consented;
  if (interviewState === "live" && startedAt && !state.startedAt) {
    state.startedAt = new Date(startedAt).getTime();
    startTimer();
  }
}

// --- a booked slot: timer against its length, opening time, wrap-up (I2) -----------------

const serverNow = () => Date.now() - state.skew;
const ms = (iso) => new Date(iso).getTime();

function tickTimer() {
  const slot = state.slot;
  const view = timerState({
    now: serverNow(),
    startsAt: slot ? ms(slot.starts_at) : null,
    endsAt: slot ? ms(slot.ends_at) : null,
    startedAt: state.startedAt,
  });
  const node = $("[data-timer]");
  node.textContent = view.overtime ? `${view.text} · ${ts("overtime", { time: view.overtime })}` : view.text;
  node.classList.toggle("overtime", Boolean(view.overtime));
  node.hidden = !view.running;
}

function startTimer() {
  if (!state.timer) state.timer = setInterval(tickTimer, 1000);
  tickTimer();
}

function showWrapUp(minutes) {
  const node = $("[data-wrap-up]");
  node.textContent = ts("wrap-up", { n: minutes });
  node.hidden = false;
}

// Before a slot's room opens to us: say when, and join again at that moment.
function showSlot(slot) {
  state.slot = slot;
  state.notOpen = Boolean(slot && !slot.open);
  show($("[data-not-open]"), state.notOpen);
  clearTimeout(state.opening);
  if (!slot) return;
  startTimer();
  if (state.notOpen) {
    state.opening = setTimeout(() => live.rejoin(), untilOpen(ms(slot.opens_at), serverNow()) + 250);
  }
  if (slot.wrap_up_at) showWrapUp(minutesLeft(ms(slot.ends_at), serverNow()));
}

async function handOff(form) {
  const select = form.elements.user_id;
  const reply = await live.emitWithAck("interview.hand_off", { interview_id: state.id, user_id: Number(select.value) });
  const code = reply.ok ? "" : reply.error.code;
  let text = ts("hand-off-failed");
  if (reply.ok) text = ts("handed-off", { name: select.selectedOptions[0]?.textContent || "" });
  else if (code === "interview.full") text = t("full");
  else if (code === "interview.handed_off") text = ts("hand-off-conflict");
  $("[data-side-error]").textContent = text;
}

// --- recording (I3) ---------------------------------------------------------------------

function showRecording({ on, reason }) {
  state.recording = Boolean(on);
  show($("[data-recording-indicator]"), state.recording);
  const button = $("[data-record]");
  if (button) button.textContent = state.recording ? t("record-stop") : t("record-start");
  if (on) notice("");
  else if (reason === "consent_missing") notice(t("recording-stopped-consent"));
  else if (reason === "failed") notice(t("recording-stopped-failed"));
}

async function toggleRecording() {
  const reply = await live.emitWithAck("interview.record", { interview_id: state.id, on: !state.recording });
  if (reply.ok) showRecording(reply.data);
  else notice(reply.error.code === "interview.consent_missing" ? t("consent-missing") : t("failed"));
}

async function setConsent(event) {
  const reply = await live.emitWithAck("interview.consent", { interview_id: state.id, consent: event.target.checked });
  if (!reply.ok) event.target.checked = !event.target.checked;
}

// --- chat -------------------------------------------------------------------------------

function addMessage(message) {
  if (message.interview_id !== state.id || state.messages.has(message.id)) return;
  state.messages.add(message.id);
  const log = $("[data-chat-log]");
  const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
  log.append(
    el("li", { class: "chat-message" },
      el("p", { class: "chat-meta" }, el("strong", { text: message.author }), " ",
        el("time", { datetime: message.created_at, text: timeOf(message.created_at) })),
      el("p", { class: "chat-body", text: message.body })),
  );
  if (atBottom) log.scrollTop = log.scrollHeight;
}

async function sendChat(form) {
  const field = form.elements.text;
  const text = field.value.trim();
  if (!text) return;
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  $("[data-chat-error]").textContent = "";
  const reply = await live.send("interview.chat", { interview_id: state.id, text, client_id: newClientId() });
  button.disabled = false;
  if (!reply.ok) {
    $("[data-chat-error]").textContent = t("failed");
    return;
  }
  addMessage(reply.data);
  field.value = "";
  field.focus();
}

// --- the room ---------------------------------------------------------------------------

function onSnapshot(data) {
  if (state.over) return;
  if (data.now) state.skew = Date.now() - new Date(data.now).getTime();
  state.ice = data.ice_servers || [];
  renderPeople(data);
  showRecording(data.recording);
  if (data.state === "ended" || data.state === "cancelled") return ended(); // a booking cancelled
  showSlot(data.slot);
  if (state.notOpen) {
    for (const selector of ["[data-waiting]", "[data-room]", "[data-chat]"]) show($(selector), false);
    setStatus(ts("not-open"));
    return;
  }
  state.admitted = data.me.admitted;
  show($("[data-waiting]"), !state.admitted);
  show($("[data-room]"), state.admitted);
  show($("[data-chat]"), state.admitted);
  if (!state.admitted) return;
  for (const message of data.messages) addMessage(message);
  state.publishers = data.publishers;
  if (state.inRoom) {
    media.reconnect(state.publishers);
  } else {
    state.inRoom = true;
    media.publish();
    media.sync(state.publishers);
  }
}

function ended() {
  state.over = true;
  clearTimeout(state.opening);
  media.stopAll();
  live.forget("interview.join");
  clearInterval(state.timer);
  for (const selector of ["[data-waiting]", "[data-knock]", "[data-room]", "[data-chat]"]) show($(selector), false);
  for (const node of root.querySelectorAll("[data-end], [data-leave], [data-consent], [data-add-form] button")) {
    node.disabled = true;
  }
  setStatus(t("ended"));
}

async function leave() {
  state.over = true;
  live.forget("interview.join");
  media.stopAll();
  clearInterval(state.timer);
  await live.emitWithAck("interview.leave", { interview_id: state.id });
  for (const selector of ["[data-waiting]", "[data-knock]", "[data-room]", "[data-chat]"]) show($(selector), false);
  setStatus(t("left"));
}

function onStatus(status) {
  root.dataset.live = status;
  if (state.over) return;
  if (status === "online" && state.notOpen) setStatus(ts("not-open"));
  else setStatus(t(status === "online" && !state.admitted ? "waiting" : status));
}

function listen() {
  const mine = (handler) => (event) => event.interview_id === state.id && !state.over && handler(event);
  live.on("interview.participants", mine(renderPeople));
  live.on("interview.media", mine((event) => {
    state.publishers = event.publishers;
    if (state.inRoom) media.sync(event.publishers);
  }));
  live.on("interview.chat", mine(addMessage));
  live.on("interview.recording", mine(showRecording));
  live.on("interview.admitted", mine(() => live.rejoin()));
  live.on("interview.ended", mine(ended));
  live.on("interview.wrap_up", mine((event) => showWrapUp(event.minutes_left)));
}

function bind() {
  media.bind();
  $("[data-admit]")?.addEventListener("click", () => live.emitWithAck("interview.admit", { interview_id: state.id }));
  $("[data-consent]").addEventListener("change", setConsent);
  $("[data-record]")?.addEventListener("click", toggleRecording);
  $("[data-chat-form]").addEventListener("submit", (event) => {
    event.preventDefault();
    sendChat(event.target);
  });
  $("[data-add-form]")?.addEventListener("submit", async (event) => {
    event.preventDefault();
    const userId = Number(event.target.elements.user_id.value);
    const reply = await live.emitWithAck("interview.add_interviewer", { interview_id: state.id, user_id: userId });
    $("[data-side-error]").textContent = reply.ok ? t("added") : t(reply.error.code === "interview.full" ? "full" : "failed");
    if (reply.ok) event.target.elements.user_id.selectedOptions[0]?.remove();
  });
  $("[data-end]")?.addEventListener("click", () => {
    if (window.confirm(t("end-confirm"))) live.emitWithAck("interview.end", { interview_id: state.id });
  });
  $("[data-leave]").addEventListener("click", leave);
  $("[data-hand-off-form]")?.addEventListener("submit", (event) => {
    event.preventDefault();
    handOff(event.target);
  });
}

if (root && $("[data-room]") && window.RTCPeerConnection) {
  live = new Live({ onStatus });
  media = createMedia({
    t,
    $,
    live,
    interviewId: state.id,
    me: state.me,
    iceServers: () => state.ice,
    mediaStatus: (text) => ($("[data-media-status]").textContent = text),
    notice,
  });
  listen();
  bind();
  live.join("interview.join", { interview_id: state.id }, onSnapshot);
}
