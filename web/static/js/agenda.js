// Progressive enhancement for the briefing form: show only the chosen company's
// recruiters as presenters. Without this file every group stays visible and the
// server still refuses presenters from another company.
const select = document.querySelector("select[data-presenter-filter]");
if (select) {
  const groups = document.querySelectorAll(".presenter-group[data-company]");
  const update = () => {
    for (const group of groups) {
      const shown = !select.value || group.dataset.company === select.value;
      group.hidden = !shown;
      if (!shown) {
        for (const box of group.querySelectorAll("input[type=checkbox]")) box.checked = false;
      }
    }
  };
  select.addEventListener("change", update);
  update();
}
