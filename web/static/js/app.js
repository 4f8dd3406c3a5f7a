// Progressive enhancement only: every page works without this file.
import { showLocalTimes } from "./local-time.js";

for (const select of document.querySelectorAll("select[data-autosubmit]")) {
  select.addEventListener("change", () => select.form.requestSubmit());
  const button = select.form.querySelector("button[type=submit]");
  if (button) button.classList.add("visually-hidden");
}

// A fair-local time gets the viewer's own beside it when their zone differs.
showLocalTimes(document);
