import { test } from "node:test";
import assert from "node:assert/strict";

import { translator } from "../../web/static/js/dom.js";

// translator only reads root.dataset: a plain object stands in for the element.
const root = {
  dataset: {
    tVisitors: "%(n)s visitors at the booth",
    tVisitorsOne: "%(n)s visitor at the booth",
    tWatching: "%(n)s watching",
  },
};
const t = translator(root);

test("a count of one takes the singular beside the string", () => {
  assert.equal(t("visitors", { n: 1 }), "1 visitor at the booth");
  assert.equal(t("visitors", { n: 0 }), "0 visitors at the booth");
  assert.equal(t("visitors", { n: 2 }), "2 visitors at the booth");
});

test("a string without a singular is used for every count", () => {
  assert.equal(t("watching", { n: 1 }), "1 watching");
});
