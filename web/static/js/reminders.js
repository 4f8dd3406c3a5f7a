// In-app notices for a student's interviews (I1), on every fair page: slot.reminder
// (their booked slot starts soon) and slot.offered (a waitlist offer is held for them)
// arrive in their user room. Text is set with textContent only; the links are the
// server's own paths. Strings come from the box's data-t-* attributes.
import { sharedLive } from "/static/js/live.js";

const box = document.getElementById("slot-reminders");
const timeOf = new Intl.DateTimeFormat([], { hour: "2-digit", minute: "2-digit" });

function notice(text, href, linkText) {
  const item = document.createElement("p");
  item.className = "notice";
  item.setAttribute("role", "status");
  item.append(document.createTextNode(`${text} `));
  if (href && href.startsWith("/") && !href.startsWith("//")) {
    const link = document.createElement("a");
    link.href = href;
    link.textContent = linkText;
    item.append(link);
  }
  box.append(item);
  box.hidden = false;
}

function start() {
  const live = sharedLive("user");
  live.on("slot.reminder", (r) => {
    const what = r.job_title ? `${r.company_name} — ${r.job_title}` : r.company_name;
    const when = timeOf.format(new Date(r.starts_at));
    notice(`${box.dataset.tReminder} ${what}, ${when}.`, r.url, box.dataset.tRoom);
  });
  live.on("slot.offered", (offer) => {
    const when = timeOf.format(new Date(offer.starts_at));
    notice(`${box.dataset.tOffered} ${when}.`, offer.url, box.dataset.tTake);
  });
}

if (box) start();
