// Fair lobby announcements (F7): the latest from the fair.join snapshot, then each new
// `fair.announcement` as it arrives, newest first. Announcement text is set with
// textContent only, never as HTML. Strings come from the section's data-t-* attributes.
import { Live } from "/static/js/live.js";
import { renderAnnouncement } from "/static/js/announcement_item.js";

const root = document.getElementById("announcements");
const MAX_SHOWN = 20;

function start() {
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

  const live = new Live();
  live.on("fair.announcement", (announcement) => add(announcement, { prepend: true }));
  // Snapshot announcements come newest first.
  live.join("fair.join", { fair: root.dataset.fair }, (snapshot) => {
    for (const announcement of snapshot.announcements || []) add(announcement, { prepend: false });
  });
}

if (root) start();
