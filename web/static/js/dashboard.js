// The organiser's live fair dashboard (F5) and announcements (F7). The server sends a
// whole snapshot (fair.dashboard) on subscribe and whenever it changes; this file only
// shows it. User text (names, companies, titles, announcements) is set with
// textContent, never as HTML. Strings come from the template's data-t-* attributes.
import { Live, newClientId } from "/static/js/live.js";
import { el, translator } from "/static/js/dom.js";
import { renderAnnouncement } from "/static/js/announcement_item.js";

const root = document.getElementById("fair-dashboard");
const MAX_ANNOUNCEMENTS = 20;

const t = translator(root);

const $ = (selector) => root.querySelector(selector);
// Times in the fair's zone, 24-hour, as the page's heading says (not the browser's zone,
// which showed a 10:00 Shanghai briefing as "02:00 AM" in Europe).
const clock = new Intl.DateTimeFormat(document.documentElement.lang || undefined, {
  hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: root.dataset.timezone || undefined,
});
const timeOf = (iso) => clock.format(new Date(iso));

// --- the snapshot ----------------------------------------------------------------------

function renderOnline(online, visitorsToday) {
  for (const node of root.querySelectorAll("[data-online]")) {
    node.textContent = String(online[node.dataset.online] ?? 0);
  }
  $("[data-visitors-today]").textContent = String(visitorsToday);
}

function staffCell(staff) {
  if (!staff.length) return el("span", { class: "hint", text: t("no-staff") });
  const list = el("ul", { class: "staff-list" });
  for (const member of staff) {
    const badge = el("span", {
      class: `badge ${member.status === "away" ? "warn" : "ok"}`,
      text: t(`status-${member.status}`),
    });
    list.append(el("li", {}, el("span", { text: member.name }), " ", badge));
  }
  return list;
}

function boothRow(booth) {
  const company = el("th", { scope: "row" }, el("span", { text: booth.company }));
  if (booth.unstaffed) {
    company.append(" ", el("span", { class: "badge bad", text: t("unstaffed") }));
  }
  const row = el(
    "tr",
    { "data-booth-id": String(booth.booth_id), class: booth.unstaffed ? "unstaffed" : "" },
    company,
    el("td", { class: "num", "data-visitors": "", text: String(booth.visitors) }),
    el("td", { class: "num", "data-queue": "", text: String(booth.queue) }),
    el("td", { class: "num", text: String(booth.in_call) }),
    el("td", {}, staffCell(booth.staff)),
  );
  return row;
}

function renderBooths(booths) {
  const body = $("[data-booth-rows]");
  if (!booths.length) {
    body.replaceChildren(el("tr", {}, el("td", { colspan: "5", class: "hint", text: t("no-booths") })));
    return;
  }
  body.replaceChildren(...booths.map(boothRow));
}

function renderBriefings(briefings) {
  const list = $("[data-briefing-list]");
  if (!briefings.length) {
    list.replaceChildren(el("li", { class: "hint", text: t("no-briefings") }));
    return;
  }
  list.replaceChildren(
    ...briefings.map((b) =>
      el(
        "li",
        { "data-briefing-id": String(b.briefing_id) },
        el("strong", { text: b.title }),
        " · ",
        el("span", { text: b.company }),
        " ",
        el("span", {
          class: `badge ${b.status === "live" ? "ok" : ""}`,
          text: t(`briefing-${b.status}`),
        }),
        el(
          "p",
          { class: "meta" },
          el("time", { datetime: b.starts_at, text: timeOf(b.starts_at) }),
          "–",
          el("time", { datetime: b.ends_at, text: timeOf(b.ends_at) }),
          " · ",
          el("span", { "data-viewers": "", text: t("viewers", { n: b.viewers }) }),
        ),
      ),
    ),
  );
}

// Interviews in progress and today's no-shows (F5). A student of another school than the
// fair's comes without a name (null): the organiser counts them but does not see who.
function interviewItem(interview) {
  return el(
    "li",
    { "data-interview-id": String(interview.interview_id) },
    el("strong", { text: interview.company }),
    " · ",
    el("span", { text: interview.student ?? t("another-school") }),
    " · ",
    el("time", { datetime: interview.since, text: t("since", { time: timeOf(interview.since) }) }),
  );
}

function renderInterviewList(list, items, total, emptyKey) {
  if (!items.length) {
    list.replaceChildren(el("li", { class: "hint", text: t(emptyKey) }));
    return;
  }
  list.replaceChildren(...items.map(interviewItem));
  if (total > items.length) list.append(el("li", { class: "hint", text: t("more", { n: total - items.length }) }));
}

function renderInterviews(interviews) {
  if (!interviews) return;
  $("[data-interviews-live]").textContent = String(interviews.live);
  $("[data-no-shows-today]").textContent = String(interviews.no_shows_today);
  renderInterviewList($("[data-interview-list]"), interviews.in_progress, interviews.live, "no-interviews");
  renderInterviewList($("[data-no-show-list]"), interviews.no_shows, interviews.no_shows_today, "no-no-shows");
}

function renderDashboard(snapshot) {
  renderOnline(snapshot.online, snapshot.visitors_today);
  renderBooths(snapshot.booths);
  renderBriefings(snapshot.briefings);
  renderInterviews(snapshot.interviews);
}

// --- announcements (F7) ----------------------------------------------------------------

const shownAnnouncements = new Set();

function addAnnouncement(announcement, { prepend }) {
  if (!announcement.created_at || shownAnnouncements.has(announcement.id)) return;
  shownAnnouncements.add(announcement.id);
  const list = $("[data-announcement-list]");
  list.querySelector(".hint")?.remove();
  const item = renderAnnouncement(announcement);
  if (prepend) list.prepend(item);
  else list.append(item);
  while (list.children.length > MAX_ANNOUNCEMENTS) list.lastElementChild.remove();
}

function errorMessage(error) {
  const key = `error-${String(error.code || "").replace(/[._]/g, "-")}`;
  const name = "t" + key.replace(/(^|-)([a-z])/g, (_, __, c) => c.toUpperCase());
  return root.dataset[name] ? t(key) : t("error");
}

function setupAnnounceForm(live) {
  const form = $("[data-announce-form]");
  const body = form.querySelector("textarea");
  const result = $("[data-announce-result]");
  const button = form.querySelector("button[type=submit]");
  let clientId = null; // kept across retries of the same text, so it is stored once
  body.addEventListener("input", () => (clientId = null));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = body.value.trim();
    result.classList.remove("error");
    if (!text || text.length > Number(body.maxLength)) {
      result.classList.add("error");
      result.textContent = t("error-request-invalid");
      body.focus();
      return;
    }
    clientId = clientId || newClientId();
    button.disabled = true;
    const reply = await live.send("fair.announce", { body: text, client_id: clientId });
    button.disabled = false;
    if (reply.ok) {
      result.textContent = reply.data.duplicate ? t("duplicate") : t("sent");
      addAnnouncement(reply.data, { prepend: true });
      body.value = "";
      clientId = null;
    } else {
      result.classList.add("error");
      result.textContent = errorMessage(reply.error);
    }
  });
}

// --- connection ------------------------------------------------------------------------

function setStatus(status) {
  root.dataset.live = status;
  $("[data-status]").textContent = t(status);
}

function start() {
  const live = new Live({ onStatus: setStatus });
  live.on("fair.dashboard", renderDashboard);
  live.on("fair.announcement", (a) => addAnnouncement(a, { prepend: true }));
  // No-shows come in the snapshot (interviews.no_shows), recomputed when one is recorded.
  live.join("fair.join", { fair: root.dataset.fair }, (snapshot) => {
    const list = $("[data-announcement-list]");
    if (!snapshot.announcements?.length && !list.children.length) {
      list.append(el("li", { class: "hint", text: t("no-announcements") }));
    }
    for (const a of snapshot.announcements || []) addAnnouncement(a, { prepend: false });
  });
  // Subscribing is a join too: after a reconnect it is sent again, after fair.join.
  live.join("fair.dashboard", {}, renderDashboard);
  setupAnnounceForm(live);
}

if (root) start();
