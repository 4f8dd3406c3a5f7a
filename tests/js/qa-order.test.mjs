// A briefing's Q&A as briefing.js keeps and orders it (logic/qa-order.js).
import { test } from "node:test";
import assert from "node:assert/strict";

import {
  PUBLIC,
  applyVotes,
  forgetsRemoved,
  isMine,
  mergeQuestion,
  questionLists,
  sortPublic,
} from "../../web/static/js/logic/qa-order.js";

const q = (id, fields = {}) => ({
  id,
  state: "approved",
  votes: 0,
  pinned: false,
  author: `asker ${id}`,
  author_id: 100 + id,
  body: `question ${id}`,
  ...fields,
});
const ids = (list) => list.map((question) => question.id);

const viewer = { user_id: 103, moderator: false, can_ask: true };
const moderator = { user_id: 900, moderator: true, can_ask: true };

test("approved and answered questions are public; pending and dismissed are not", () => {
  assert.deepEqual([...PUBLIC].sort(), ["answered", "approved"]);
});

test("by votes: most votes first, ties newest first", () => {
  const list = [q(1, { votes: 2 }), q(2, { votes: 5 }), q(3, { votes: 2 }), q(4, { votes: 0 })];
  assert.deepEqual(ids(sortPublic(list, "votes")), [2, 3, 1, 4]);
});

test("newest: by id, whatever the votes", () => {
  const list = [q(1, { votes: 9 }), q(3, { votes: 0 }), q(2, { votes: 4 })];
  assert.deepEqual(ids(sortPublic(list, "newest")), [3, 2, 1]);
});

test("pinned questions come first in either order, ordered among themselves", () => {
  const list = [
    q(1, { votes: 10 }),
    q(2, { votes: 1, pinned: true }),
    q(3, { votes: 3, pinned: true }),
    q(4, { votes: 5 }),
  ];
  assert.deepEqual(ids(sortPublic([...list], "votes")), [3, 2, 1, 4]);
  assert.deepEqual(ids(sortPublic([...list], "newest")), [3, 2, 4, 1]);
});

test("sortPublic sorts the list it is given", () => {
  const list = [q(1), q(2)];
  assert.equal(sortPublic(list, "newest"), list);
  assert.deepEqual(ids(list), [2, 1]);
});

function known() {
  return [
    q(1, { votes: 1 }),
    q(2, { state: "pending" }),
    q(3, { state: "answered", votes: 4 }),
    q(4, { state: "dismissed", dismiss_reason: "off topic" }),
    q(5, { state: "pending", author_id: 103 }),
    q(6, { votes: 1, author_id: 103 }),
    q(7, { state: "pending" }),
    q(8, { state: "pending", author_id: 900 }), // the moderator's own
  ];
}

test("a viewer sees the public list and their own unpublished questions, each question once", () => {
  const lists = questionLists(known(), { me: viewer, sort: "votes" });
  assert.deepEqual(ids(lists.public), [3, 6, 1]);
  assert.deepEqual(ids(lists.pending), []);
  // 103 asked 3, 5 and 6: 3 and 6 are public, so only pending 5 is in their own list.
  assert.deepEqual(ids(lists.mine), [5]);
  const everywhere = [...ids(lists.public), ...ids(lists.mine)];
  assert.equal(new Set(everywhere).size, everywhere.length);
});

test("a moderator sees the pending list, oldest first, and no 'mine' list", () => {
  const lists = questionLists(known(), { me: moderator, sort: "newest" });
  assert.deepEqual(ids(lists.public), [6, 3, 1]);
  assert.deepEqual(ids(lists.pending), [2, 5, 7, 8]);
  assert.deepEqual(ids(lists.mine), []); // they asked 8, but see it in the pending list
});

test("before the snapshot names the viewer there is only the public list", () => {
  const lists = questionLists(known().values(), { me: null, sort: "votes" });
  assert.deepEqual(ids(lists.public), [3, 6, 1]);
  assert.deepEqual(lists.pending, []);
  assert.deepEqual(lists.mine, []);
});

test("isMine compares the asker with the viewer", () => {
  assert.equal(isMine(q(3), viewer), true);
  assert.equal(isMine(q(4), viewer), false);
  assert.equal(isMine(q(3), null), false);
});

test("a new question is taken as it comes", () => {
  const question = q(8, { votes: 3 });
  assert.equal(mergeQuestion(undefined, question), question);
});

test("a question event keeps our vote count, not the one it carries", () => {
  const old = q(1, { votes: 7, state: "pending" });
  const merged = mergeQuestion(old, q(1, { votes: 2, state: "approved" }));
  assert.equal(merged.votes, 7);
  assert.equal(merged.state, "approved");
});

test("the public copy of an anonymous question keeps the asker we were told", () => {
  const old = q(1, { author: "Ann", author_id: 103 });
  const update = q(1, { author: null, author_id: null, state: "answered" });
  const merged = mergeQuestion(old, update);
  assert.equal(merged.author, "Ann");
  assert.equal(merged.author_id, 103);
  assert.equal(merged.state, "answered");
  assert.equal(update.author, null); // the event itself is not changed
});

test("a question anonymous from the start stays anonymous", () => {
  const merged = mergeQuestion(q(1, { author: null, author_id: null }), q(1, { author: null, author_id: null }));
  assert.equal(merged.author, null);
});

test("a dismissal's reason survives a later copy without it", () => {
  const old = q(4, { state: "dismissed", dismiss_reason: "off topic" });
  assert.equal(mergeQuestion(old, q(4, { state: "dismissed", dismiss_reason: null })).dismiss_reason, "off topic");
  assert.equal(mergeQuestion(old, q(4, { state: "dismissed", dismiss_reason: "dup" })).dismiss_reason, "dup");
});

test("a removed question is forgotten, except by its asker and the moderators", () => {
  assert.equal(forgetsRemoved(q(1), viewer), true);
  assert.equal(forgetsRemoved(q(3), viewer), false); // the viewer asked it
  assert.equal(forgetsRemoved(q(1), moderator), false);
  assert.equal(forgetsRemoved(q(1), null), true);
});

test("vote counts apply to known questions and say whether anything changed", () => {
  const questions = new Map(known().map((question) => [question.id, question]));
  assert.equal(applyVotes(questions, [{ question_id: 99, votes: 5 }]), false);
  assert.equal(
    applyVotes(questions, [
      { question_id: 1, votes: 9 },
      { question_id: 99, votes: 5 },
    ]),
    true,
  );
  assert.equal(questions.get(1).votes, 9);
  assert.equal(questions.has(99), false);
  // The new counts reorder the public list.
  assert.deepEqual(ids(questionLists(questions.values(), { me: viewer, sort: "votes" }).public), [1, 3, 6]);
});
