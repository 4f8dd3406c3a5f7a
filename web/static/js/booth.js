// A live booth: staff on duty, visitors, lobby chat, the queue, private chat, and the
// recruiter desk (B3, B4, B5, B7). The server decides who sees what; this file only
// shows it. User text is always set with textContent, never as HTML. Strings come
// from the template's data-t-* attributes, which are translated.
import { Live, newClientId } from "/static/js/live.js";
import { announcementsOn } from "/static/js/announcements.js";
import { el, translator } from "/static/js/dom.js";
import { endedNotice, positionState, queueView, secondsLeft } from "/static/js/logic/queue-state.js";

const root = document.getElementById("booth-live");
const HEARTBEAT_MS = 20000;

const t = translator(root);

const $ = (selector) => root.querySelector(selector);
const show = (node, visible) => node && (node.hidden = !visible);
const timeOf = (iso) => new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });

const state = {
  boothId: Number(root?.dataset.boothId),
  me: Number(root?.dataset.userId),
  staff: root?.dataset.staff === "true",
  student: root?.dataset.student === "true",
  moderator: root?.dataset.moderator === "true",
  messages: new Map(), // lobby message id -> <li>
  dms: new Map(), // peer user id -> [message]
  dmIds: new Set(),
  peer: null, // {id, name}: the open private conversation
  staffOnDuty: [],
  mine: null, // the student's last queue state, for the estimate
  queueRows: [],
  countdown: null,
  candidate: null,
  interviews: new Map(), // interview id -> {url, name}: video interviews open with this booth
};
let live = null;

// --- presence (B3) ---------------------------------------------------------------------

// The waiting estimate, again whenever the staff on duty change (nobody: no estimate).
function renderEta() {
  const eta = $("[data-queue-eta]");
  if (!eta || !state.mine) return;
  const view = queueView(state.mine, state.boothId, state.staffOnDuty);
  eta.textContent = view.eta ? t(view.eta.key, view.eta.vars) : "";
}

function renderPresence({ staff, visitors }) {
  state.staffOnDuty = staff;
  const list = $("[data-staff-list]");
  list.replaceChildren();
  if (!staff.length) list.append(el("li", { class: "hint", text: t("no-staff") }));
  for (const member of staff) {
    const item = el("li", {}, el("span", { text: member.name }), " ",
      el("span", { class: `badge status-${member.status}`, text: t(`status-${member.status}`) }));
    if (state.student) {
      item.append(" ", el("button", {
        type: "button", class: "link", text: t("message"),
        onclick: () => openDm(member.user_id, member.name),
      }));
    }
    list.append(item);
  }
  $("[data-visitors]").textContent = t("visitors", { n: visitors });
  renderHandoverChoices();
  if (state.student) renderEta();
}

function renderQueueLength(length) {
  $("[data-queue-length]").textContent = t("queue-length", { n: length });
}

// --- lobby chat (B4) -------------------------------------------------------------------

function messageItem(message, onDelete) {
  const head = el("p", { class: "chat-meta" }, el("strong", { text: message.author }));
  if (message.staff) head.append(" ", el("span", { class: "badge ok", text: t("staff") }));
  head.append(" ", el("time", { datetime: message.created_at, text: timeOf(message.created_at) }));
  if (onDelete) {
    head.append(" ", el("button", { type: "button", class: "link", text: t("delete"), onclick: onDelete }));
  }
  return el("li", { class: "chat-message" }, head, el("p", { class: "chat-body", text: message.body }));
}

function addMessage(message) {
  if (state.messages.has(message.id)) return;
  const onDelete = state.moderator
    ? () => live.emitWithAck("booth.chat_delete", { booth_id: state.boothId, message_id: message.id })
    : null;
  const item = messageItem(message, onDelete);
  state.messages.set(message.id, item);
  const log = $("[data-chat-log]");
  const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
  log.append(item);
  if (atBottom) log.scrollTop = log.scrollHeight;
}

function removeMessage({ id }) {
  state.messages.get(id)?.remove();
  state.messages.delete(id);
}

async function sendForm(form, errorNode, event, extra) {
  const field = form.elements.body;
  const body = field.value.trim();
  if (!body) return null;
  errorNode.textContent = "";
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  const reply = await live.send(event, { booth_id: state.boothId, body, client_id: newClientId(), ...extra });
  button.disabled = false;
  if (!reply.ok) {
    errorNode.textContent = t("failed");
    return null;
  }
  field.value = "";
  field.focus();
  return reply.data;
}

// --- private chat ----------------------------------------------------------------------

function openDm(peerId, name) {
  state.peer = { id: peerId, name };
  $("[data-dm-title]").textContent = t("dm-with", { name });
  show($("[data-dm-panel]"), true);
  renderDms();
}

function renderDms() {
  const log = $("[data-dm-log]");
  log.replaceChildren(...(state.dms.get(state.peer?.id) || []).map((m) => messageItem(m, null)));
  log.scrollTop = log.scrollHeight;
}

function addDm(message) {
  if (state.dmIds.has(message.id)) return;
  state.dmIds.add(message.id);
  const peer = message.author_id === state.me ? message.recipient_id : message.author_id;
  if (!state.dms.has(peer)) state.dms.set(peer, []);
  state.dms.get(peer).push(message);
  if (!state.peer) openDm(peer, message.author_id === state.me ? String(peer) : message.author);
  else if (state.peer.id === peer) renderDms();
}

// --- the queue, for students (B5) ------------------------------------------------------

// What the panel shows is logic/queue-state.js (tested under Node, tests/js).
function renderMine(mine) {
  if (!state.student) return;
  state.mine = mine;
  const view = queueView(mine, state.boothId, state.staffOnDuty);
  show($("[data-queue-join]"), view.joinable);
  show($("[data-queue-leave]"), view.leavable);
  $("[data-queue-join]").disabled = false;
  $("[data-queue-state]").textContent = t(view.text.key, view.text.vars);
  renderEta();
  if (view.call) openCall(view.call);
  if (view.dm && !state.peer) openDm(view.dm.id, view.dm.name);
}

function notice(selector, message) {
  const node = $(selector);
  if (!node) return;
  node.textContent = message;
  show(node, Boolean(message));
}

function openCall(call) {
  const dialog = $("[data-call-dialog]");
  if (!dialog) return;
  $("[data-call-text]").textContent = t("called", { recruiter: call.recruiter, company: call.company });
  const deadline = Date.now() + call.seconds * 1000;
  clearInterval(state.countdown);
  const tick = () => {
    const left = secondsLeft(deadline, Date.now());
    $("[data-call-countdown]").textContent = t("countdown", { seconds: left });
    if (left === 0) closeCall();
  };
  tick();
  state.countdown = setInterval(tick, 250);
  state.call = call;
  if (!dialog.open) dialog.showModal();
  $("[data-call-accept]").focus();
}

function closeCall() {
  clearInterval(state.countdown);
  const dialog = $("[data-call-dialog]");
  if (dialog?.open) dialog.close();
}

async function answerCall(event) {
  const boothId = state.call?.booth_id ?? state.boothId;
  const reply = await live.emitWithAck(event, { booth_id: boothId });
  closeCall();
  if (reply.ok && boothId === state.boothId) renderMine(reply.data);
  if (reply.ok && event === "booth.call_accept" && state.call?.recruiter_id) {
    openDm(state.call.recruiter_id, state.call.recruiter);
  }
  if (!reply.ok) notice("[data-queue-notice]", t("ended-timeout"));
}

function ended(event) {
  if (event.student_id !== state.me) return staffEnded(event);
  closeCall();
  const { key, reason } = endedNotice(event);
  let text = t(key);
  if (reason) text += " " + t("reason", { reason });
  if (event.booth_id === state.boothId) {
    notice("[data-queue-notice]", text);
    renderMine({ state: "none", length: 0 });
  }
}

// --- the recruiter desk (B5, B7) -------------------------------------------------------

function staffEnded(event) {
  if (!state.staff || event.booth_id !== state.boothId) return;
  notice("[data-staff-notice]", t("student-ended", { name: event.student, outcome: t(`outcome-${event.outcome}`) }));
}

function renderQueueRows({ entries }) {
  const body = $("[data-queue-rows]");
  if (!body) return;
  state.queueRows = entries;
  body.replaceChildren(...entries.map((row) => {
    const actions = el("td", { class: "actions" },
      el("button", { type: "button", text: t("profile"), onclick: () => loadCandidate(row.student_id) }),
      el("button", { type: "button", text: t("message"), onclick: () => openDm(row.student_id, row.name) }),
      el("button", { type: "button", text: t("video-interview"), onclick: () => openInterview(row.student_id) }));
    if (row.state === "chatting") {
      actions.append(el("button", { type: "button", text: t("end-chat"), onclick: () => staffAction("booth.chat_end", row) }));
    } else {
      actions.append(el("button", { type: "button", text: t("skip"), onclick: () => staffAction("booth.queue_skip", row) }));
    }
    const label = t(`state-${row.state}`) + (row.away ? ` (${t("away")})` : "");
    return el("tr", {}, el("td", { text: row.position ?? "" }), el("td", { text: row.name }),
      el("td", { text: label }), actions);
  }));
}

async function staffAction(event, row) {
  const payload = { booth_id: state.boothId, student_id: row.student_id };
  if (event === "booth.queue_skip") payload.reason = $("[data-skip-reason]").value.trim();
  const reply = await live.emitWithAck(event, payload);
  if (!reply.ok) notice("[data-staff-notice]", reply.error.message);
}

async function callNext() {
  const reply = await live.emitWithAck("booth.queue_next", { booth_id: state.boothId });
  if (!reply.ok) return notice("[data-staff-notice]", reply.error.message);
  const called = reply.data.called;
  notice("[data-staff-notice]", called ? t("you-called", { name: called.student }) : t("nobody-called"));
  if (called) loadCandidate(called.student_id);
}

function renderHandoverChoices() {
  const select = $("[data-handover-select]");
  if (!select) return;
  const current = select.value;
  select.replaceChildren(el("option", { value: "", text: t("nobody") }),
    ...state.staffOnDuty.filter((m) => m.user_id !== state.me)
      .map((m) => el("option", { value: String(m.user_id), text: m.name })));
  select.value = [...select.options].some((o) => o.value === current) ? current : "";
}

async function loadCandidate(studentId) {
  const reply = await live.emitWithAck("booth.candidate", { booth_id: state.boothId, student_id: studentId });
  if (!reply.ok) return notice("[data-staff-notice]", reply.error.message);
  const profile = reply.data;
  state.candidate = profile;
  const panel = $("[data-candidate]");
  $("[data-candidate-name]").textContent = `${profile.real_name} (${profile.display_name})`;
  for (const node of panel.querySelectorAll("[data-field]")) {
    const value = profile[node.dataset.field];
    const field = node.dataset.field;
    if (field === "verified") node.textContent = t(value ? "verified" : "unverified");
    else if (field === "degree") node.textContent = t(`degree-${value}`); // a label, not the code
    else node.textContent = String(value ?? "");
  }
  const marks = $("[data-marks]");
  marks.replaceChildren(...profile.marks.map((m) => el("li", {},
    el("strong", { text: t(`interest-${m.interest}`) }), " ",
    el("span", { class: "meta", text: `${m.author} · ${timeOf(m.created_at)}${m.handed_to_name ? " → " + m.handed_to_name : ""}` }),
    el("p", { text: m.note }))));
  if (!profile.marks.length) marks.append(el("li", { class: "hint", text: t("no-marks") }));
  show(panel, true);
}

async function saveMark(form) {
  if (!state.candidate) return;
  const handed = form.elements.handed_to.value;
  const reply = await live.emitWithAck("booth.mark", {
    booth_id: state.boothId,
    student_id: state.candidate.student_id,
    interest: form.elements.interest.value,
    note: form.elements.note.value,
    handed_to: handed ? Number(handed) : null,
  });
  $("[data-mark-error]").textContent = reply.ok ? t("saved") : reply.error.message;
  if (reply.ok) {
    form.elements.note.value = "";
    loadCandidate(state.candidate.student_id);
  }
}

// --- video interviews (B6) -------------------------------------------------------------

// Links to the caller's open interview rooms with this booth, shown in the private chat.
function renderInterviews() {
  const list = $("[data-interview-links]");
  list.replaceChildren(...[...state.interviews].map(([id, i]) =>
    el("li", {}, el("a", { class: "button primary", href: i.url, "data-interview-link": String(id),
      text: t("join-interview", { name: i.name }) }))));
  show(list, state.interviews.size > 0);
  if (state.interviews.size) show($("[data-dm-panel]"), true);
}

function addInterview(interview) {
  const name = state.staff ? interview.student_name : interview.company_name;
  state.interviews.set(interview.interview_id, { url: interview.url, name });
  renderInterviews();
}

async function loadInterviews() {
  if (!state.staff && !state.student) return;
  const reply = await live.emitWithAck("interview.mine", { booth_id: state.boothId });
  if (!reply.ok) return;
  state.interviews.clear();
  for (const interview of reply.data.interviews) addInterview(interview);
  renderInterviews();
}

async function openInterview(studentId) {
  const reply = await live.emitWithAck("interview.open", { booth_id: state.boothId, student_id: studentId });
  if (!reply.ok) return notice("[data-staff-notice]", reply.error.message);
  addInterview(reply.data);
  return reply.data;
}

function invited(event) {
  // Only this booth's; a colleague added to a panel opens it from their invitation elsewhere.
  if (state.staff || event.booth_id !== state.boothId) return;
  addInterview(event);
  if (!state.peer && event.from_user_id) openDm(event.from_user_id, event.from_name);
}

// --- wiring ----------------------------------------------------------------------------

function onSnapshot(data) {
  renderPresence(data);
  for (const message of data.messages) addMessage(message);
  renderQueueLength(data.queue.length);
  renderMine(data.queue);
  if (data.queue_list) renderQueueRows(data.queue_list);
  for (const button of root.querySelectorAll("[data-chat-form] button, [data-queue-next]")) button.disabled = false;
  loadInterviews();
}

function onStatus(status) {
  $("[data-status]").textContent = t(status);
  root.dataset.live = status;
}

function listen() {
  live.on("booth.presence", renderPresence);
  live.on("booth.message", addMessage);
  live.on("booth.message_deleted", removeMessage);
  live.on("booth.dm", addDm);
  live.on("booth.queue", ({ booth_id, length }) => booth_id === state.boothId && renderQueueLength(length));
  live.on("booth.queue_position", (e) => {
    const mine = positionState(e, state.boothId);
    if (mine) renderMine(mine);
  });
  live.on("booth.queue_list", renderQueueRows);
  live.on("booth.called", openCall);
  live.on("booth.call_expired", ended);
  live.on("booth.queue_ended", ended);
  live.on("booth.call_accepted", (e) => {
    if (state.staff) notice("[data-staff-notice]", t("accepted", { name: e.student }));
  });
  live.on("interview.invited", invited);
  live.on("interview.ended", ({ interview_id: id }) => state.interviews.delete(id) && renderInterviews());
  live.on("booth.handover", (e) => notice("[data-staff-notice]", t("handover", { sender: e.from_name, name: e.student })));
}

function bindControls() {
  $("[data-chat-form]").addEventListener("submit", async (event) => {
    event.preventDefault();
    const message = await sendForm(event.target, $("[data-chat-error]"), "booth.chat", {});
    if (message) addMessage(message);
  });
  $("[data-dm-form]").addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!state.peer) return;
    const message = await sendForm(event.target, $("[data-dm-error]"), "booth.dm", { to_user_id: state.peer.id });
    if (message) addDm(message);
  });
  $("[data-queue-join]")?.addEventListener("click", async () => {
    const reply = await live.emitWithAck("booth.queue_join", { booth_id: state.boothId });
    notice("[data-queue-notice]", reply.ok ? "" : reply.error.message);
    if (reply.ok) renderMine(reply.data);
  });
  $("[data-queue-leave]")?.addEventListener("click", () =>
    live.emitWithAck("booth.queue_leave", { booth_id: state.boothId }));
  $("[data-call-accept]")?.addEventListener("click", () => answerCall("booth.call_accept"));
  $("[data-call-decline]")?.addEventListener("click", () => answerCall("booth.call_decline"));
  // Escape closes a modal dialog: for a call that means "decline".
  $("[data-call-dialog]")?.addEventListener("cancel", (event) => {
    event.preventDefault();
    answerCall("booth.call_decline");
  });
  $("[data-queue-next]")?.addEventListener("click", callNext);
  $("[data-dm-interview]")?.addEventListener("click", () => state.peer && openInterview(state.peer.id));
  $("[data-status-form]")?.addEventListener("change", (event) =>
    live.emitWithAck("booth.status", { booth_id: state.boothId, status: event.target.value }));
  $("[data-mark-form]")?.addEventListener("submit", (event) => {
    event.preventDefault();
    saveMark(event.target);
  });
}

if (root) {
  live = new Live({ onStatus });
  listen();
  bindControls();
  live.join("fair.join", { fair: root.dataset.fair }, announcementsOn(live));
  live.join("booth.join", { booth_id: state.boothId }, onSnapshot);
  setInterval(() => {
    if (live.socket.connected) live.emitWithAck("booth.heartbeat", { booth_id: state.boothId });
  }, HEARTBEAT_MS);
}
