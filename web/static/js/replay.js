// The replay page (P7): the Q&A timeline beside the recording. Selecting a question seeks
// the video to the moment it was asked; during playback the question asked most recently
// is highlighted (aria-current) and kept in view within the list.
const video = document.querySelector("[data-replay-video]");
const list = document.querySelector("[data-timeline]");

function entries() {
  return Array.from(list.querySelectorAll("li[data-offset]")).map((item) => ({
    item,
    offset: Number(item.dataset.offset),
  }));
}

function highlight(all) {
  let current = null;
  for (const entry of all) {
    if (entry.offset <= video.currentTime + 0.25) current = entry;
    else break;
  }
  for (const entry of all) {
    if (entry === current) {
      if (entry.item.getAttribute("aria-current") !== "true") {
        entry.item.setAttribute("aria-current", "true");
        // Scroll the list, not the page: the video stays where the viewer put it.
        const top = entry.item.offsetTop - list.offsetTop;
        if (top < list.scrollTop || top > list.scrollTop + list.clientHeight - entry.item.offsetHeight) {
          list.scrollTop = top;
        }
      }
    } else {
      entry.item.removeAttribute("aria-current");
    }
  }
}

function start() {
  const all = entries();
  list.addEventListener("click", (event) => {
    const button = event.target.closest("[data-seek]");
    if (!button) return;
    video.currentTime = Number(button.dataset.seek);
    highlight(all);
    video.play().catch(() => {}); // autoplay rules may say no: the viewer presses play
  });
  video.addEventListener("timeupdate", () => highlight(all));
  video.addEventListener("seeked", () => highlight(all));
}

if (video && list) start();
