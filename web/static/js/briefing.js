// Live briefing: Q&A, chat, moderation, viewer count and reactions (P3–P5).
// The server decides who sees what; this file only shows it. User text is always
// set with textContent, never as HTML. Strings come from data-t-* attributes that
// the template translates. The connection (acks, retries with the same client_id,
// de-duplication by seq, rejoining with `after`) is the shared live.js.
import { newClientId, sharedLive } from "/static/js/live.js";
import { announcementsOn } from "/static/js/announcements.js";
import { el, translator } from "/static/js/dom.js";
import { PUBLIC, applyVotes, forgetsRemoved, isMine, mergeQuestion, questionLists } from "/static/js/logic/qa-order.js";

const root = document.getElementById("briefing-live");
let live = null; // the Live connection, made once the page has a briefing

const t = translator(root);

const $ = (selector) => root.querySelector(selector);

const state = {
  briefingId: Number(root?.dataset.briefing),
  fair: root?.dataset.fair,
  me: null,
  open: true,
  banned: false,
  questions: new Map(),
  voted: new Set(),
  messages: new Map(),
  sort: "votes",
  renderQueued: false,
};

// Merging, ordering and vote counts are logic/qa-order.js (tested under Node, tests/js).
function storeQuestion(question) {
  state.questions.set(question.id, mergeQuestion(state.questions.get(question.id), question));
}

function stateLabel(question) {
  return t(question.state);
}

function questionItem(question, { moderator }) {
  const item = el("li", { class: `question ${question.state}`, "data-question-id": question.id });
  const meta = el("p", { class: "meta" });
  meta.append(el("span", { class: "author", text: question.author ?? t("anonymous") }));
  if (question.pinned) meta.append(" · ", el("span", { class: "badge", text: t("pinned") }));
  if (PUBLIC.has(question.state) && isMine(question, state.me)) {
    meta.append(" · ", el("span", { class: "badge mine", text: t("yours") }));
  }
  if (question.state !== "approved") {
    const tone = { answered: "ok", dismissed: "bad", pending: "warn" }[question.state] || "";
    meta.append(" · ", el("span", { class: `badge ${tone}`, text: stateLabel(question) }));
  }
  item.append(el("p", { class: "body", text: question.body }), meta);
  if (question.state === "dismissed" && question.dismiss_reason) {
    item.append(el("p", { class: "reason", text: t("reason", { reason: question.dismiss_reason }) }));
  }
  const row = el("div", { class: "question-actions" });
  if (PUBLIC.has(question.state)) {
    // "1 vote", "2 votes": the count's own words around the number (ngettext's forms).
    const [before, after] = t("votes", { n: question.votes === 1 ? 1 : 2 }).split("%(count)s");
    const count = el("span", { class: "vote-count", text: String(question.votes) });
    row.append(el("span", { class: "votes" }, before ?? "", count, after ?? ""));
    if (state.me?.can_ask && state.open) {
      const pressed = state.voted.has(question.id);
      row.append(
        el("button", {
          type: "button",
          class: "vote",
          "aria-pressed": String(pressed),
          text: `▲ ${t("upvote")}`,
          onclick: () => vote(question.id, !pressed),
        }),
      );
    }
  }
  if (moderator) row.append(...moderatorButtons(question));
  if (row.childElementCount) item.append(row);
  return item;
}

function moderatorButtons(question) {
  const act = (event, extra = {}) => () =>
    send(event, { question_id: question.id, ...extra }, $("[data-ask-error]"));
  const buttons = [];
  const button = (label, onclick) => el("button", { type: "button", text: t(label), onclick });
  if (question.state === "pending") buttons.push(button("approve", act("briefing.approve")));
  if (PUBLIC.has(question.state)) {
    buttons.push(question.pinned ? button("unpin", act("briefing.unpin")) : button("pin", act("briefing.pin")));
  }
  if (question.state === "pending" || question.state === "approved") {
    buttons.push(button("answer", act("briefing.answer")));
    const id = `reason-${question.id}`;
    const reason = el("input", { id, maxlength: "300", class: "reason-input" });
    const label = el("label", { for: id, class: "reason-label", text: t("dismiss-reason") });
    const dismiss = button("dismiss", () =>
      send("briefing.dismiss", { question_id: question.id, reason: reason.value }, $("[data-ask-error]")),
    );
    buttons.push(el("span", { class: "dismiss" }, label, reason, dismiss));
  }
  return buttons;
}

function render() {
  state.renderQueued = false;
  const moderator = Boolean(state.me?.moderator);
  const lists = questionLists(state.questions.values(), { me: state.me, sort: state.sort });
  const sections = [
    ["[data-question-list]", lists.public, "[data-questions-empty]"],
    ["[data-pending-list]", lists.pending, "[data-pending-empty]"],
    ["[data-mine-list]", lists.mine, null],
  ];
  for (const [selector, items, empty] of sections) {
    $(selector).replaceChildren(...items.map((q) => questionItem(q, { moderator })));
    if (empty) $(empty).hidden = items.length > 0;
  }
  $("[data-mine]").hidden = lists.mine.length === 0;
}

// A reaction's count in the tally: the button's own icon (shipped with the project, so no
// emoji font is needed) and its name for screen readers, then the number.
function reactionCount(kind, n) {
  const button = [...root.querySelectorAll("[data-react]")].find((b) => b.dataset.react === kind);
  const item = el("span", { class: "reaction-count" });
  if (button) {
    const icon = button.querySelector("svg").cloneNode(true);
    item.append(icon, el("span", { class: "visually-hidden", text: button.getAttribute("aria-label") }));
  }
  item.append(el("span", { text: ` ${n}` }));
  return item;
}

function scheduleRender() {
  if (state.renderQueued) return;
  state.renderQueued = true;
  requestAnimationFrame(() => render());
}

function messageItem(message) {
  const item = el("li", { "data-message-id": message.id });
  item.append(el("strong", { text: message.author }), " ", el("span", { class: "body", text: message.body }));
  if (state.me?.moderator && message.author_id !== state.me.user_id) {
    const target = { user_id: message.author_id };
    const error = $("[data-chat-error]");
    item.append(
      el("span", { class: "chat-actions" },
        el("button", { type: "button", class: "link", text: t("delete"), onclick: () => send("briefing.delete_message", { message_id: message.id }, error) }),
        el("button", { type: "button", class: "link", text: t("mute"), onclick: () => send("briefing.mute", { ...target, minutes: 10 }, error) }),
        el("button", { type: "button", class: "link", text: t("ban"), onclick: () => send("briefing.ban", target, error) }),
      ),
    );
  }
  return item;
}

function addMessage(message) {
  if (state.messages.has(message.id)) return;
  state.messages.set(message.id, message);
  const log = $("[data-chat-log]");
  const nearBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
  log.append(messageItem(message));
  while (log.childElementCount > 200) log.firstElementChild.remove();
  if (nearBottom) log.scrollTop = log.scrollHeight;
}

function removeMessage(id) {
  state.messages.delete(id);
  root.querySelector(`[data-message-id="${Number(id)}"]`)?.remove();
}

function showSlow(seconds) {
  const note = $("[data-slow-note]");
  note.hidden = !seconds;
  note.textContent = seconds ? t("slow", { n: seconds }) : "";
  const select = root.querySelector("#slow-seconds");
  if (select) select.value = String(seconds);
}

function setStatus(text) {
  $("[data-status]").textContent = text;
}

function showViewers(n) {
  $("[data-viewers]").textContent = t("viewers", { n });
}

// The snapshot is the whole current state of the briefing: live.js (joined with
// fullSnapshot) holds back durable events while the join is in flight, applies those
// newer than the snapshot after it, and drops what it already holds; `missed` (what
// happened while we were away) is in the snapshot, so it is not replayed.
function applySnapshot(snap) {
  state.me = snap.me;
  state.open = snap.open;
  state.questions.clear();
  for (const q of snap.questions) storeQuestion(q);
  state.voted = new Set(snap.voted);
  state.messages.clear();
  $("[data-chat-log]").replaceChildren();
  for (const m of snap.messages) addMessage(m);
  showViewers(snap.viewers);
  showSlow(snap.slow_mode);
  $("[data-moderation]").hidden = !snap.me.moderator;
  $("#ask-form").hidden = !(snap.me.can_ask && snap.open);
  $("#chat-form").hidden = !snap.open;
  for (const button of root.querySelectorAll("[data-react]")) button.disabled = false;
  setStatus(snap.open ? t("connected") : t("closed"));
  render();
}

function handlers() {
  return {
    "briefing.question": (e) => { storeQuestion(e.question); scheduleRender(); },
    "briefing.question_removed": (e) => {
      const q = state.questions.get(e.question_id);
      // The moderators and the asker keep it: a dismissal with its reason follows.
      if (q && forgetsRemoved(q, state.me)) state.questions.delete(e.question_id);
      scheduleRender();
    },
    "briefing.message": (e) => addMessage(e.message),
    "briefing.message_deleted": (e) => removeMessage(e.message_id),
  };
}

// Writes with a client_id (questions, chat) are retried by live.js with the same id
// while unacknowledged; everything else is sent once.
async function send(event, data, errorNode) {
  if (errorNode) errorNode.textContent = "";
  const payload = { briefing_id: state.briefingId, ...data };
  const reply = payload.client_id ? await live.send(event, payload) : await live.emitWithAck(event, payload);
  if (!reply.ok && errorNode) errorNode.textContent = reply.error.message || t("failed");
  return reply;
}

async function vote(questionId, up) {
  const reply = await send(up ? "briefing.vote" : "briefing.unvote", { question_id: questionId }, $("[data-ask-error]"));
  if (!reply.ok) return;
  if (up) state.voted.add(questionId);
  else state.voted.delete(questionId);
  const q = state.questions.get(questionId);
  if (q) q.votes = reply.data.votes;
  scheduleRender();
}

// live.js rejoins both after every reconnect, the fair first, and the briefing with
// `after`. The status follows the connection; a banned viewer stays banned.
function onStatus(status) {
  if (state.banned) setStatus(t("banned"));
  else if (status === "connecting") setStatus(t("connecting"));
  else if (status === "offline") setStatus(t("offline"));
  else if (status === "unavailable") setStatus(t("unavailable"));
  else setStatus(state.open ? t("connected") : t("closed"));
}

function join() {
  live.join("fair.join", { fair: state.fair }, announcementsOn(live));
  live.join("briefing.join", { briefing_id: state.briefingId }, applySnapshot, { fullSnapshot: true });
}

function wireForms() {
  $("#ask-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = root.querySelector("#ask-body");
    const anonymous = root.querySelector("#ask-anonymous");
    const payload = { body: body.value, anonymous: anonymous.checked, client_id: newClientId() };
    const reply = await send("briefing.ask", payload, $("[data-ask-error]"));
    if (reply.ok) {
      storeQuestion(reply.data.question);
      body.value = "";
      scheduleRender();
    }
  });
  $("#chat-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const input = root.querySelector("#chat-body");
    const reply = await send("briefing.chat", { body: input.value, client_id: newClientId() }, $("[data-chat-error]"));
    if (reply.ok) {
      addMessage(reply.data.message);
      input.value = "";
    }
  });
  $("[data-slow-form]").addEventListener("submit", (event) => {
    event.preventDefault();
    const seconds = Number(root.querySelector("#slow-seconds").value);
    send("briefing.slow_mode", { seconds }, $("[data-ask-error]"));
  });
  for (const button of root.querySelectorAll("[data-sort]")) {
    button.addEventListener("click", () => {
      state.sort = button.dataset.sort;
      for (const other of root.querySelectorAll("[data-sort]")) {
        other.setAttribute("aria-pressed", String(other === button));
      }
      render();
    });
  }
  for (const button of root.querySelectorAll("[data-react]")) {
    button.addEventListener("click", () => send("briefing.react", { kind: button.dataset.react }, null));
  }
}

function wireEvents() {
  for (const [event, handler] of Object.entries(handlers())) live.on(event, handler);
  live.on("briefing.votes", (e) => {
    if (applyVotes(state.questions, e.counts)) scheduleRender();
  });
  live.on("briefing.viewers", (e) => showViewers(e.viewers));
  live.on("briefing.slow_mode", (e) => showSlow(e.seconds));
  let tallyTimer = null;
  live.on("briefing.reactions", (e) => {
    const tally = $("[data-reaction-tally]");
    tally.replaceChildren(...Object.entries(e.counts).map(([kind, n]) => reactionCount(kind, n)));
    clearTimeout(tallyTimer);
    tallyTimer = setTimeout(() => { tally.textContent = ""; }, 3000);
  });
  live.on("briefing.muted", (e) => {
    const until = e.until ? new Date(e.until).toLocaleTimeString() : "";
    $("[data-chat-error]").textContent = t("muted", { until });
  });
  live.on("briefing.unbanned", () => { $("[data-chat-error]").textContent = t("unbanned"); });
  live.on("briefing.banned", () => {
    state.banned = true;
    live.forget("briefing.join"); // not rejoined after a reconnect
    live.emitWithAck("briefing.leave", { briefing_id: state.briefingId });
    $("#ask-form").hidden = true;
    $("#chat-form").hidden = true;
    setStatus(t("banned"));
  });
}

if (root) {
  live = sharedLive("briefing");
  live.addStatusListener(onStatus);
  wireForms();
  wireEvents();
  join();
}
