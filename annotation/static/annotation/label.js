// The labelling page: keyboard first, the next item fetched ahead, nothing a worker typed lost.
// Talks to the JSON API: POST /api/v1/assignments/next, .../{id}/judgment, .../{id}/skip.
(function () {
  "use strict";
  const root = document.getElementById("labeller");
  if (!root) return;
  const batch = Number(root.dataset.batch);
  const csrf = root.querySelector("input[name=csrfmiddlewaretoken]").value;
  const $ = (id) => document.getElementById(id);
  const form = $("judgment"), statusEl = $("status");
  let done = Number(root.dataset.done), left = Number(root.dataset.left);
  let current = null;   // the assignment on screen
  let ahead = null;     // a promise of the one after it
  let state = null;     // {relevance, answer, ambiguous, key}
  let busy = false;

  function api(path, body) {
    return fetch(path, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf, Accept: "application/json" },
      body: JSON.stringify(body || {}),
    });
  }

  async function claim(isAhead) {
    for (let attempt = 0; ; attempt++) {
      try {
        const r = await api("/api/v1/assignments/next", { batch: batch, ahead: isAhead });
        if (r.status === 204) return null;
        if (r.ok) return await r.json();
        const err = await r.json().catch(() => ({}));
        throw new Error(err.error || "The server answered " + r.status);
      } catch (e) {
        if (attempt >= 4) throw e;
        await new Promise((res) => setTimeout(res, 500 * 2 ** attempt));
      }
    }
  }

  function say(text, kind) {
    statusEl.textContent = text || "";
    statusEl.className = "status" + (kind ? " " + kind : "");
  }

  function showProgress() {
    $("progress").textContent = done + " done, about " + Math.max(0, left) + " left";
  }

  function keyFor(choice, index) {
    const t = choice.trim().toLowerCase();
    if (t === "yes") return "y";
    if (t === "no") return "n";
    return String.fromCharCode(97 + index);
  }

  function render(a) {
    current = a;
    state = { relevance: null, answer: null, ambiguous: false, key: (crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random()) };
    $("behavior").textContent = a.behavior;
    $("question").textContent = a.question;
    const answers = $("answers");
    answers.innerHTML = "";
    a.choices.forEach((choice, i) => {
      const b = document.createElement("button");
      b.type = "button";
      b.dataset.answer = choice;
      b.dataset.key = keyFor(choice, i);
      const k = document.createElement("kbd");
      k.textContent = b.dataset.key;
      b.append(k, " " + choice.trim());
      b.addEventListener("click", () => setAnswer(choice));
      answers.append(b);
    });
    $("comment").value = "";
    paint();
    form.hidden = false;
    $("nothing-left").hidden = true;
    window.scrollTo(0, 0);
  }

  function paint() {
    form.querySelectorAll("[data-relevance]").forEach((b) => b.classList.toggle("chosen", Number(b.dataset.relevance) === state.relevance));
    form.querySelectorAll("[data-answer]").forEach((b) => b.classList.toggle("chosen", b.dataset.answer === state.answer));
    const amb = $("ambiguous");
    amb.classList.toggle("chosen", state.ambiguous);
    amb.setAttribute("aria-pressed", String(state.ambiguous));
    amb.querySelector("span").textContent = state.ambiguous ? "Yes, it is ambiguous" : "No, it is clear";
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

  async function advance() {
    const next = ahead ? await ahead.catch(() => claim(false)) : await claim(false);
    ahead = null;
    if (!next) return nothingLeft();
    render(next);
    ahead = claim(true).catch(() => null);
  }

  async function send(assignment, payload) {
    for (let attempt = 0; ; attempt++) {
      let r;
      try {
        r = await api("/api/v1/assignments/" + assignment.id + "/judgment", payload);
      } catch (e) {
        if (attempt >= 5) throw new Error("No connection: your answer was kept, press Enter to try again.");
        say("Connection lost, retrying…", "warn");
        await new Promise((res) => setTimeout(res, 500 * 2 ** attempt));
        continue;  // the same idempotency key: a retry never makes a second judgment
      }
      if (r.ok) return;
      const err = await r.json().catch(() => ({}));
      const e = new Error(err.error || "The server answered " + r.status);
      e.status = r.status;
      throw e;
    }
  }

  async function submit() {
    if (busy || !current) return;
    if (state.relevance === null) return say("Choose a rating first: keys 1-5.", "warn");
    if (state.answer === null) return say("Choose the answer you think is correct first.", "warn");
    busy = true;
    const assignment = current;
    const payload = {
      relevance: state.relevance, answer: state.answer, ambiguous: state.ambiguous,
      comment: $("comment").value, idempotency_key: state.key,
    };
    try {
      await send(assignment, payload);
      done += 1; left -= 1;
      showProgress();
      say("Saved.", "ok");
      if (done % 10 === 0) refreshProgress();
      await advance();
    } catch (e) {
      if (e.status === 409) {  // the lease expired and the slot went to someone else, or the batch stopped
        say(e.message, "warn");
        await advance();
      } else {
        say(e.message, "error");  // input stays on screen
      }
    } finally {
      busy = false;
    }
  }

  async function skip() {
    if (busy || !current) return;
    busy = true;
    try {
      await api("/api/v1/assignments/" + current.id + "/skip");
      left -= 1;
      showProgress();
      say("Skipped.", "");
      await advance();
    } finally {
      busy = false;
    }
  }

  function refreshProgress() {
    fetch(root.dataset.progressUrl, { credentials: "same-origin" })
      .then((r) => r.json()).then((p) => { done = p.done; left = p.left_estimate; showProgress(); }).catch(() => {});
  }

  form.querySelectorAll("[data-relevance]").forEach((b) => b.addEventListener("click", () => setRelevance(Number(b.dataset.relevance))));
  $("ambiguous").addEventListener("click", toggleAmbiguous);
  $("skip").addEventListener("click", skip);
  form.addEventListener("submit", (e) => { e.preventDefault(); submit(); });
  $("toggle-instructions").addEventListener("click", toggleInstructions);

  function toggleInstructions() {
    const panel = $("instructions");
    panel.hidden = !panel.hidden;
    $("toggle-instructions").setAttribute("aria-expanded", String(!panel.hidden));
  }

  document.addEventListener("keydown", (e) => {
    if (e.altKey || e.metaKey) return;
    const typing = e.target.tagName === "TEXTAREA" || e.target.tagName === "INPUT";
    if (typing) {
      if (e.key === "Enter" && e.ctrlKey) { e.preventDefault(); submit(); }
      if (e.key === "Escape") e.target.blur();
      return;
    }
    if (e.ctrlKey) return;
    if (!current) return;
    const key = e.key.toLowerCase();
    if (key >= "1" && key <= "5") { setRelevance(Number(key)); e.preventDefault(); return; }
    if (key === "enter") { e.preventDefault(); submit(); return; }
    if (key === "x") { toggleAmbiguous(); e.preventDefault(); return; }
    if (key === "s") { skip(); e.preventDefault(); return; }
    if (key === "?") { toggleInstructions(); e.preventDefault(); return; }
    const hit = form.querySelector('[data-answer][data-key="' + key + '"]');
    if (hit) { setAnswer(hit.dataset.answer); e.preventDefault(); }
  });

  advance().catch((e) => say(e.message, "error"));
})();
