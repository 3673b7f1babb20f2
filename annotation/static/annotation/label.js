// The labelling page: keyboard first, the next item fetched ahead, nothing a worker typed lost.
// Talks to the JSON API: POST /api/v1/assignments/next, .../{id}/judgment, .../{id}/skip.
//
// Fetch-ahead: the engine lets a worker hold two leases (the item on screen and the next one), so
// right after the first item appears we claim the following one with {ahead: true}. Submitting then
// shows the prefetched item at once; the server starts its clock at that submit, not at the prefetch.
// One round trip per judgment: each submit says {next: true}, and the server hands out the item after
// the prefetched one in the same response, which becomes the new item fetched ahead. So in steady
// state a judgment costs one request, and on a slow network the next item is already on screen.
(function () {
  "use strict";
  const root = document.getElementById("labeller");
  if (!root) return;
  const batch = root.dataset.batch ? Number(root.dataset.batch) : null;  // null: every batch
  const csrf = root.querySelector("input[name=csrfmiddlewaretoken]").value;
  const $ = (id) => document.getElementById(id);
  const form = $("judgment"), statusEl = $("status");
  let done = Number(root.dataset.done), left = Number(root.dataset.left);
  let current = null;   // the assignment on screen
  let ahead = null;     // a promise of {a} (the one after it, or null when none) or {error}
  let state = null;     // {relevance, answer, ambiguous, key}
  let busy = false;
  let shownInstructions = null;

  const sleep = (ms) => new Promise((res) => setTimeout(res, ms));
  const newKey = () => (crypto.randomUUID ? crypto.randomUUID() : Date.now() + "-" + Math.random().toString(36).slice(2));

  function api(path, body) {
    return fetch(path, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf, Accept: "application/json" },
      body: JSON.stringify(body || {}),
    });
  }

  async function refusal(r) {
    const body = await r.json().catch(() => ({}));
    const e = new Error(body.error || body.detail || "The server answered " + r.status + ".");
    e.status = r.status;
    e.extra = body.extra || {};
    return e;
  }

  // POST with retries on a lost connection or a server error (5xx); a 4xx is the server's answer.
  async function post(path, body, onRetry) {
    for (let attempt = 0; ; attempt++) {
      let r = null;
      try {
        r = await api(path, body);
      } catch (e) {
        r = null;
      }
      if (r && r.status < 500) return r;
      if (attempt >= 5) {
        const e = r ? await refusal(r) : new Error("No connection to the server.");
        e.retryable = true;
        throw e;
      }
      if (onRetry) onRetry();
      await sleep(400 * 2 ** attempt);
    }
  }

  async function claim(isAhead) {
    const r = await post("/api/v1/assignments/next", { batch: batch, ahead: isAhead });
    if (r.status === 204) return null;
    if (r.ok) return r.json();
    throw await refusal(r);
  }

  function fetchAhead() {
    ahead = claim(true).then((a) => ({ a: a }), (e) => ({ error: e }));
  }

  function say(text, kind) {
    statusEl.textContent = text || "";
    statusEl.className = "status" + (kind ? " " + kind : "");
  }

  function showProgress() {
    $("progress").textContent = done + " done, about " + Math.max(0, left) + " left";
  }

  function keysFor(choices) {
    const plain = choices.map((c) => c.trim().toLowerCase());
    if (plain.length === 2 && plain[0] === "yes" && plain[1] === "no") return ["y", "n"];
    return choices.map((_, i) => String.fromCharCode(97 + i));
  }

  // " (A)" is shown with its option's text from the question ("(A) Ask for clarification").
  function choiceLabel(choice, question) {
    const t = choice.trim();
    const m = /^\(([A-Z])\)$/.exec(t);
    if (m) {
      const line = new RegExp("^\\s*\\(" + m[1] + "\\)\\s*(.+)$", "m").exec(question);
      if (line) return t + " " + line[1].trim();
    }
    return t;
  }

  function render(a) {
    current = a;
    state = { relevance: null, answer: null, ambiguous: false, key: newKey() };
    $("behavior").textContent = a.behavior;
    $("question").textContent = a.question;
    const answers = $("answers");
    answers.innerHTML = "";
    const keys = keysFor(a.choices);
    a.choices.forEach((choice, i) => {
      const b = document.createElement("button");
      b.type = "button";
      b.dataset.answer = choice;
      b.dataset.key = keys[i];
      const k = document.createElement("kbd");
      k.textContent = keys[i];
      b.append(k, " " + choiceLabel(choice, a.question));
      b.addEventListener("click", () => setAnswer(choice));
      answers.append(b);
    });
    // Every batch on one page: each item brings its batch's instructions (sanitised by the server).
    if (batch === null && a.instructions_html !== undefined && a.instructions_html !== shownInstructions) {
      shownInstructions = a.instructions_html;
      $("instructions-body").innerHTML = a.instructions_html || "<p>Rate the question, give the answer you think is correct, and say whether it is ambiguous.</p>";
    }
    $("comment").value = "";
    paint();
    form.hidden = false;
    $("nothing-left").hidden = true;
    window.scrollTo(0, 0);
  }

  function paint() {
    form.querySelectorAll("[data-relevance]").forEach((b) => {
      const on = Number(b.dataset.relevance) === state.relevance;
      b.classList.toggle("chosen", on);
      b.setAttribute("aria-pressed", String(on));
    });
    form.querySelectorAll("[data-answer]").forEach((b) => {
      const on = b.dataset.answer === state.answer;
      b.classList.toggle("chosen", on);
      b.setAttribute("aria-pressed", String(on));
    });
    const amb = $("ambiguous");
    amb.classList.toggle("chosen", state.ambiguous);
    amb.setAttribute("aria-pressed", String(state.ambiguous));
    amb.querySelector("span").textContent = state.ambiguous ? "Yes, it is ambiguous" : "No, it is clear";
    if (state.relevance !== null) $("field-relevance").classList.remove("invalid");
    if (state.answer !== null) $("field-answer").classList.remove("invalid");
  }

  function setRelevance(n) { state.relevance = n; paint(); }
  function setAnswer(a) { state.answer = a; paint(); }
  function toggleAmbiguous() { state.ambiguous = !state.ambiguous; paint(); }

  function nothingLeft() {
    current = null;
    form.hidden = true;
    $("nothing-left").hidden = false;
    window.location.href = root.dataset.doneUrl;
  }

  const fresh = (a) => Boolean(a) && new Date(a.expires_at).getTime() > Date.now();

  // handed: the answer of a submit with {next: true} ({next, next_status}), or nothing.
  async function advance(handed) {
    let next = null;
    if (ahead) {
      const got = await ahead;
      ahead = null;
      if (!got.error) next = got.a;
    }
    let following = handed ? handed.next : null;  // handed out with the judgment: the one after `next`
    if (following && next && following.id === next.id) following = null;
    // Nothing fetched ahead, the prefetch found nothing then, or its lease ran out while the worker was
    // on the current item: the item handed out with the judgment comes next, else ask again.
    if (!fresh(next)) {
      next = fresh(following) ? following : await claim(false);
      following = null;
    }
    if (!next) return nothingLeft();
    render(next);
    if (following) ahead = Promise.resolve({ a: following });
    else if (!handed || handed.next_status !== "none") fetchAhead();  // "none": the server just said no work
  }

  function markInvalid(field) {
    const el = field && $("field-" + field);
    if (el) { el.classList.add("invalid"); el.scrollIntoView({ block: "center" }); }
  }

  async function submit() {
    if (busy || !current) return;
    if (state.relevance === null) { markInvalid("relevance"); return say("Choose a rating first: keys 1-5.", "warn"); }
    if (state.answer === null) { markInvalid("answer"); return say("Choose the answer you think is correct first.", "warn"); }
    busy = true;
    form.classList.add("sending");
    const payload = {
      relevance: state.relevance, answer: state.answer, ambiguous: state.ambiguous,
      comment: $("comment").value, idempotency_key: state.key,  // the same key on every retry
      next: true,  // and hand out the next item in the same response
    };
    if (batch === null) payload.batch = null;  // continue in any batch (default: the judged item's)
    try {
      const r = await post("/api/v1/assignments/" + current.id + "/judgment", payload,
        () => say("Connection lost, retrying…", "warn"));
      if (!r.ok) throw await refusal(r);
      const handed = await r.json().catch(() => null);
      done += 1; left -= 1;
      showProgress();
      say("Saved.", "ok");
      if (done % 10 === 0) refreshProgress();
      await advance(handed || undefined);
    } catch (e) {
      if (e.status === 409 || e.status === 404) {
        // The lease expired and the slot went to someone else, or the batch was paused or closed.
        say(e.message, "warn");
        await advance().catch((e2) => say(e2.message, "error"));
      } else if (e.retryable) {
        say(e.message + " Your answers are kept: press Enter to try again.", "error");
      } else {
        say(e.message, "error");  // e.g. a refused answer: the input stays on screen
        markInvalid(e.extra && e.extra.field);
      }
    } finally {
      busy = false;
      form.classList.remove("sending");
    }
  }

  async function skip() {
    if (busy || !current) return;
    busy = true;
    try {
      const r = await post("/api/v1/assignments/" + current.id + "/skip");
      if (!r.ok && r.status !== 409 && r.status !== 404) throw await refusal(r);
      left -= 1;
      showProgress();
      say("Skipped.", "");
      await advance();
    } catch (e) {
      say(e.message, "error");
    } finally {
      busy = false;
    }
  }

  function refreshProgress() {
    fetch(root.dataset.progressUrl, { credentials: "same-origin" })
      .then((r) => r.json()).then((p) => { done = p.done; left = p.left_estimate; showProgress(); }).catch(() => {});
  }

  function toggleInstructions() {
    const panel = $("instructions");
    panel.hidden = !panel.hidden;
    $("toggle-instructions").setAttribute("aria-expanded", String(!panel.hidden));
  }

  form.querySelectorAll("[data-relevance]").forEach((b) => b.addEventListener("click", () => setRelevance(Number(b.dataset.relevance))));
  $("ambiguous").addEventListener("click", toggleAmbiguous);
  $("skip").addEventListener("click", skip);
  form.addEventListener("submit", (e) => { e.preventDefault(); submit(); });
  $("toggle-instructions").addEventListener("click", toggleInstructions);
  if (root.dataset.showInstructions) toggleInstructions();  // first visit: the researcher's instructions open

  document.addEventListener("keydown", (e) => {
    if (e.altKey || e.metaKey) return;
    const typing = e.target.tagName === "TEXTAREA" || e.target.tagName === "INPUT";
    if (typing) {
      if (e.key === "Enter" && e.ctrlKey) { e.preventDefault(); submit(); }
      if (e.key === "Escape") e.target.blur();
      return;
    }
    if (e.ctrlKey) return;
    const key = e.key.toLowerCase();
    if (key === "?") { toggleInstructions(); e.preventDefault(); return; }
    if (!current) return;
    if (key >= "1" && key <= "5") { setRelevance(Number(key)); e.preventDefault(); return; }
    if (key === "enter") { e.preventDefault(); submit(); return; }
    if (key === "x") { toggleAmbiguous(); e.preventDefault(); return; }
    if (key === "s") { skip(); e.preventDefault(); return; }
    const hit = form.querySelector('[data-answer][data-key="' + key + '"]');
    if (hit) { setAnswer(hit.dataset.answer); e.preventDefault(); }
  });

  advance().catch((e) => say(e.message, "error"));
})();
