// Beside each fair-local time ([data-when], written by the server's `when` filter), the
// viewer's own time when their browser's zone shows another clock time.
import { localLabel } from "./logic/local-time.js";

export function showLocalTimes(root) {
  const viewerZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const locale = document.documentElement.lang || undefined;
  for (const node of root.querySelectorAll("[data-when]")) {
    if (node.querySelector(".local-time")) continue;
    const label = localLabel(node.dataset.start, node.dataset.end, node.dataset.zone, viewerZone, locale);
    if (!label) continue;
    const span = document.createElement("span");
    span.className = "local-time";
    span.textContent = ` (${(node.dataset.yourTime || "{time}").replace("{time}", label)})`;
    node.append(span);
  }
}
