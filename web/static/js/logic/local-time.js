// The viewer's own time beside a fair-local one, when their zone differs (pure, for tests).

// The UTC offset of `zone` at `date`, in minutes, read from Intl (no tz database of our own).
export function offsetMinutes(date, zone) {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone: zone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit",
  }).formatToParts(date);
  const get = (type) => Number(parts.find((p) => p.type === type).value);
  const asUtc = Date.UTC(get("year"), get("month") - 1, get("day"), get("hour"), get("minute"));
  return Math.round((asUtc - Math.floor(date.getTime() / 60000) * 60000) / 60000);
}

// "10 Dec, 03:00–05:30 GMT+1" in the viewer's zone, or "" when it shows the same clock time
// as the fair's zone (nothing to add).
export function localLabel(startIso, endIso, fairZone, viewerZone, locale) {
  const start = new Date(startIso);
  if (!viewerZone || offsetMinutes(start, fairZone) === offsetMinutes(start, viewerZone)) return "";
  const day = { timeZone: viewerZone, month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", hourCycle: "h23" };
  const clock = { timeZone: viewerZone, hour: "2-digit", minute: "2-digit", hourCycle: "h23" };
  const zoneName = new Intl.DateTimeFormat(locale, { timeZone: viewerZone, timeZoneName: "short" })
    .formatToParts(start).find((p) => p.type === "timeZoneName")?.value ?? viewerZone;
  let text = new Intl.DateTimeFormat(locale, day).format(start);
  if (endIso) {
    const end = new Date(endIso);
    const sameDay = new Intl.DateTimeFormat("en-CA", { timeZone: viewerZone }).format(start)
      === new Intl.DateTimeFormat("en-CA", { timeZone: viewerZone }).format(end);
    text += "–" + new Intl.DateTimeFormat(locale, sameDay ? clock : day).format(end);
  }
  return `${text} ${zoneName}`;
}
