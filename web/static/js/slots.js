// The student's slot page (I1). Without this file every button is a plain form. With it:
// the page reloads itself when the server says something changed for this student
// (slot.offered, slot.offer_expired, slot.booked, slot.cancelled reach their user room),
// a held offer counts down, Take / Decline go over the socket (slot.take_offer,
// slot.decline_offer); the visitor's own time beside the fair's comes from local-time.js.
// Strings come from the section's data-t-* attributes.
import { sharedLive } from "/static/js/live.js";
import { formatLeft, secondsLeft } from "/static/js/logic/countdown.js";

const root = document.getElementById("slots");
const EVENTS = ["slot.offered", "slot.offer_expired", "slot.booked", "slot.cancelled"];
let leaving = false;

function startCountdown() {
  const el = root.querySelector("time[data-countdown]");
  if (!el) return;
  const ends = new Date(el.dateTime).getTime();
  const label = document.createElement("span");
  label.setAttribute("aria-live", "off");
  el.after(label);
  const tick = () => {
    const left = secondsLeft(ends, Date.now());
    if (left === 0) {
      label.textContent = ` — ${root.dataset.tLapsed}`;
      clearInterval(timer);
      setTimeout(() => location.reload(), 3000); // the sweep moves the offer on
      return;
    }
    label.textContent = ` (${formatLeft(left)} ${root.dataset.tLeft})`;
  };
  const timer = setInterval(tick, 1000);
  tick();
}

function socketForms(live) {
  for (const form of root.querySelectorAll("form[data-socket]")) {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const button = form.querySelector("button");
      button.disabled = true;
      const entryId = Number(form.elements.entry_id.value);
      const name = form.dataset.socket === "take" ? "slot.take_offer" : "slot.decline_offer";
      const reply = await live.emitWithAck(name, { entry_id: entryId });
      if (reply.ok) {
        leaving = true;
        location.reload();
        return;
      }
      if (reply.error?.code === "timeout") {
        leaving = true;
        form.submit(); // the same service over HTTP
        return;
      }
      button.disabled = false;
      const message = document.createElement("p");
      message.className = "form-error";
      message.setAttribute("role", "alert");
      message.textContent = reply.error?.message || "";
      form.after(message);
    });
  }
}

// An event sent while this page's socket was not yet (or no longer) connected is not sent
// again: on every connect, the page asks the server what it would show now, and reloads
// when that differs from what it shows.
async function reloadIfStale() {
  try {
    const response = await fetch(location.href, { credentials: "same-origin" });
    if (!response.ok) return;
    const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
    const state = fresh.getElementById("slots")?.dataset.state;
    if (state !== undefined && state !== root.dataset.state && !leaving) location.reload();
  } catch {
    // offline: the next connect asks again
  }
}

function start() {
  startCountdown();
  const live = sharedLive("user");
  for (const name of EVENTS) {
    live.on(name, () => {
      if (!leaving) location.reload();
    });
  }
  live.socket.on("connect", reloadIfStale);
  if (live.socket.connected) reloadIfStale();
  // Test hook: the browser test drops and restores this page's socket (tests/e2e).
  window.__slotsSocket = live.socket;
  document.addEventListener("submit", (event) => {
    if (!event.defaultPrevented) leaving = true;
  });
  socketForms(live);
}

if (root) start();
