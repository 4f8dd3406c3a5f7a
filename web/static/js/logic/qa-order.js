// A briefing's Q&A (P3, P4) as briefing.js keeps and orders it: which questions are
// public, the order of the public list (pinned first, then by votes or newest), the
// moderators' pending list and the asker's own list, how a question event is merged into
// what is known, and vote counts.
//
// Pure logic: no DOM, no page state; imports are relative, so Node's test runner
// (tests/js) loads the same file the browser does.

// The states everyone sees (and may vote on).
export const PUBLIC = new Set(["approved", "answered"]);

// sort "votes": pinned first, then most votes, then newest (the highest id);
// any other sort ("newest"): pinned first, then newest. Sorts `list` in place.
export function sortPublic(list, sort) {
  const newest = (a, b) => b.id - a.id;
  const byVotes = (a, b) => b.votes - a.votes || newest(a, b);
  return list.sort((a, b) => Number(b.pinned) - Number(a.pinned) || (sort === "votes" ? byVotes(a, b) : newest(a, b)));
}

// Whether `me` (the snapshot's {user_id, moderator, ...}, or null) asked the question.
export function isMine(question, me) {
  return Boolean(me) && question.author_id === me.user_id;
}

// The three lists of the page, from every question known:
//   public   approved and answered ones, in sortPublic order
//   pending  awaiting moderation, oldest first: moderators only
//   mine     the viewer's own that others cannot see (pending, dismissed), newest first;
//            their public ones stay in the public list only, marked as theirs, so no
//            question shows twice. Not for moderators (they see all).
export function questionLists(questions, { me, sort }) {
  const moderator = Boolean(me?.moderator);
  const all = [...questions];
  return {
    public: sortPublic(all.filter((q) => PUBLIC.has(q.state)), sort),
    pending: all.filter((q) => moderator && q.state === "pending").sort((a, b) => a.id - b.id),
    mine: all.filter((q) => isMine(q, me) && !moderator && !PUBLIC.has(q.state)).sort((a, b) => b.id - a.id),
  };
}

// A question event's copy merged with the one already known (`old`, or undefined).
// Public copies hide an anonymous asker: the name we already know is kept (moderators and
// the asker themselves were sent it); so is a dismissal's reason. Vote counts move only
// with briefing.votes, vote acks and snapshots: the count inside a question event is the
// one of its moment, possibly older than ours. Returns a new object (or `question` itself
// when nothing was known).
export function mergeQuestion(old, question) {
  if (!old) return question;
  const merged = { ...question, votes: old.votes };
  if (question.author === null && old.author !== null) {
    merged.author = old.author;
    merged.author_id = old.author_id;
  }
  if (!question.dismiss_reason && old.dismiss_reason) merged.dismiss_reason = old.dismiss_reason;
  return merged;
}

// briefing.question_removed: whether the viewer forgets the question. Moderators and the
// asker keep it: a dismissal with its reason follows.
export function forgetsRemoved(question, me) {
  return !isMine(question, me) && !me?.moderator;
}

// briefing.votes counts [{question_id, votes}] applied to the known questions (a Map
// id -> question; updated in place). True when any known question's count was set.
export function applyVotes(questions, counts) {
  let changed = false;
  for (const { question_id: id, votes } of counts) {
    const q = questions.get(id);
    if (q) {
      q.votes = votes;
      changed = true;
    }
  }
  return changed;
}
