// One announcement as a list item, shared by the lobby banner and the dashboard.
// Text only: the body and the author are set with textContent.
export function renderAnnouncement(announcement) {
  const item = document.createElement("li");
  item.dataset.announcementId = String(announcement.id);
  const body = document.createElement("p");
  body.className = "body";
  body.textContent = announcement.body;
  const meta = document.createElement("p");
  meta.className = "meta";
  const when = document.createElement("time");
  when.dateTime = announcement.created_at;
  when.textContent = new Date(announcement.created_at).toLocaleString([], {
    dateStyle: "short",
    timeStyle: "short",
  });
  meta.append(announcement.author ? `${announcement.author} · ` : "", when);
  item.append(body, meta);
  return item;
}
