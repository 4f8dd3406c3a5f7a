// Fair announcements (F7) on every fair page: the latest from the fair.join snapshot, then
// each new `fair.announcement` as it arrives, newest first. Announcement text is set with
// textContent only, never as HTML. A page with a socket of its own in the fair (booth,
// briefing) calls announcementsOn(live) and hands it its fair.join snapshot; any other
// fair page (data-standalone: lobby, jobs, slots, agenda, policy) joins the fair here.
import { Live } from "/static/js/live.js";
import { renderAnnouncement } from "/static/js/announcement_item.js";

const MAX_SHOWN = 20;

// Returns a function taking a fair.join snapshot; nothing to do on a page without the box.
export function announcementsOn(live) {
  const root = document.getElementById("announcements");
  if (!root) return () => {};
  const list = root.querySelector("[data-announcement-list]");
  const shown = new Set();

  function add(announcement, { prepend }) {
    if (shown.has(announcement.id)) return;
    shown.add(announcement.id);
    const item = renderAnnouncement(announcement);
    if (prepend) list.prepend(item);
    else list.append(item);
    while (list.children.length > MAX_SHOWN) list.lastElementChild.remove();
    root.hidden = false;
  }

  live.on("fair.announcement", (announcement) => add(announcement, { prepend: true }));
  // Snapshot announcements come newest first.
  return (snapshot) => {
    for (const announcement of snapshot?.announcements || []) add(announcement, { prepend: false });
  };
}

const standalone = document.querySelector("#announcements[data-standalone]");
if (standalone) {
  const live = new Live();
  const fromSnapshot = announcementsOn(live);
  live.join("fair.join", { fair: standalone.dataset.fair }, fromSnapshot);
}
