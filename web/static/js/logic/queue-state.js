// What a student sees of their place in a booth's queue (B5), from the server's account of
// it: booth.join's snapshot and queue acks ({state, length, position, eta_seconds, recruiter,
// recruiter_id, company, seconds_left}), booth.queue_position events, and how an entry
// ended (booth.queue_ended, booth.call_expired). booth.js turns these into the page:
// message keys go through its translator, `call` opens the call dialog.
//
// Pure logic: no DOM, no page state; imports are relative, so Node's test runner
// (tests/js) loads the same file the browser does.

// The waiting estimate in whole minutes, never under one.
export function etaMinutes(etaSeconds) {
  return Math.max(1, Math.round(etaSeconds / 60));
}

// A booth.queue_position event as the student's queue state, or null when it is about
// another booth.
export function positionState(event, boothId) {
  return event.booth_id === boothId ? { state: "waiting", ...event } : null;
}

// The student's queue panel for `mine` at booth `boothId`:
//   joinable / leavable  which of the Join and Leave buttons show
//   text                 {key, vars} of the state line
//   eta                  {key, vars} of the waiting estimate, or null
//   call                 the call to show in the dialog (called), or null
//   dm                   {id, name} of the recruiter to chat with (chatting), or null
// `staff` is the booth's staff on duty as presence last said ({status} each), or null when
// not known: with nobody on duty but away, no estimate is promised (the honest queue).
export function queueView(mine, boothId, staff = null) {
  const view = {
    joinable: mine.state === "none",
    leavable: mine.state !== "none",
    text: { key: "not-queued", vars: {} },
    eta: null,
    call: null,
    dm: null,
  };
  if (mine.state === "waiting") {
    view.text = { key: "position", vars: { position: mine.position, length: mine.length } };
    const staffed = staff === null || staff.some((member) => member.status !== "away");
    view.eta = staffed
      ? { key: "eta", vars: { minutes: etaMinutes(mine.eta_seconds) } }
      : { key: "eta-no-staff", vars: {} };
  } else if (mine.state === "called") {
    view.text = { key: "called", vars: { recruiter: mine.recruiter, company: mine.company } };
    view.call = { booth_id: boothId, ...mine, seconds: mine.seconds_left };
  } else if (mine.state === "chatting") {
    view.text = { key: "chatting", vars: {} };
    if (mine.recruiter_id) view.dm = { id: mine.recruiter_id, name: mine.recruiter };
  }
  return view;
}

// Whole seconds left to answer a call, counting down to zero.
export function secondsLeft(deadline, now) {
  return Math.max(0, Math.ceil((deadline - now) / 1000));
}

// Why the student's entry ended (booth.queue_ended / booth.call_expired): the message key,
// and the staff's reason to add (null when none; "disconnected" is in the key instead).
export function endedNotice(event) {
  const key =
    event.outcome === "left" && event.reason === "disconnected" ? "ended-left-disconnected" : `ended-${event.outcome}`;
  const reason = event.reason && event.reason !== "disconnected" ? event.reason : null;
  return { key, reason };
}
