// Preview of a batch's labelling page for its researcher. label.js runs unchanged; this file,
// loaded before it, answers label.js's calls to the worker API from the items embedded in the page
// (json_script "preview-items"), with the engine's lease rules (the item on screen and one fetched
// ahead), so that the page behaves as a worker's and nothing is stored: no lease, no judgment.
(function () {
  "use strict";
  const root = document.getElementById("labeller");
  const data = document.getElementById("preview-items");
  if (!root || !root.dataset.preview || !data) return;
  const items = JSON.parse(data.textContent);
  const byId = new Map(items.map((a) => [a.id, a]));
  let given = 0, done = 0;
  let held = [];  // ids handed out and neither answered nor skipped, oldest first
  const passThrough = window.fetch.bind(window);

  function answer(status, body) {
    return Promise.resolve(new Response(body === undefined ? null : JSON.stringify(body), {
      status: status, headers: { "Content-Type": "application/json" },
    }));
  }

  function claim(ahead) {
    if (held.length >= (ahead ? 2 : 1)) return answer(200, byId.get(held[ahead ? 1 : 0]));
    if (given >= items.length) return answer(204);
    const a = items[given++];
    held.push(a.id);
    return answer(200, a);
  }

  window.fetch = function (input, init) {
    const url = new URL(typeof input === "string" ? input : input.url, window.location.href);
    const body = init && init.body ? JSON.parse(init.body) : {};
    if (url.pathname === "/api/v1/assignments/next") return claim(Boolean(body.ahead));
    const m = /^\/api\/v1\/assignments\/(\d+)\/(judgment|skip)$/.exec(url.pathname);
    if (m) {
      const id = Number(m[1]);
      held = held.filter((h) => h !== id);
      if (m[2] === "skip") return answer(204);
      done += 1;
      const a = byId.get(id);
      return answer(201, {
        id: id, item: a.item, assignment: id, relevance: body.relevance, answer: body.answer,
        ambiguous: body.ambiguous, comment: body.comment || "", seconds: 0, submitted_at: new Date().toISOString(),
      });
    }
    if (url.pathname === window.location.pathname && url.hash === "#progress") {
      return answer(200, { done: done, left_estimate: items.length - given + held.length });
    }
    return passThrough(input, init);
  };
})();
