// Live progress on the researcher's console: poll the progress endpoint of each batch that can
// still move (running or paused), and write the numbers into the elements marked data-field.
(function () {
  "use strict";
  function duration(seconds) {
    const s = Math.round(seconds);
    if (s < 90) return s + " s";
    const m = Math.round(s / 60);
    if (m < 90) return m + " min";
    const h = Math.floor(m / 60);
    if (h < 48) return h + " h " + (m % 60) + " min";
    return Math.round(h / 24) + " days";
  }
  function fmt(field, value) {
    if (value === null || value === undefined || value === "") return "–";
    if (field === "median_seconds") return Number(value).toFixed(1);
    if (field === "eta_seconds") return duration(Number(value));
    if (field === "judgments_saved_share") return Math.round(Number(value) * 100) + "%";
    return String(value);
  }
  // The server renders raw seconds; show them as a duration at once.
  document.querySelectorAll("[data-field=eta_seconds][data-value]").forEach((el) => { el.textContent = fmt("eta_seconds", el.dataset.value); });

  // The batch page's worker table: rebuilt from the workers endpoint on each poll, with textContent
  // only (user names are data, never markup).
  const workerTable = document.querySelector("table[data-workers-url]");
  function cell(text, cls) {
    const td = document.createElement("td");
    if (cls) td.className = cls;
    td.textContent = text;
    return td;
  }
  function refreshWorkers() {
    if (!workerTable) return;
    fetch(workerTable.dataset.workersUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then((r) => (r.ok ? r.json() : null))
      .then((rows) => {
        if (!rows) return;
        const body = workerTable.tBodies[0];
        if (!rows.length) return;  // keep "No judgments yet."
        body.replaceChildren(...rows.map((w) => {
          const tr = document.createElement("tr");
          tr.dataset.workerId = w.worker_id;
          const gold = w.gold_accuracy === null ? "–" : Math.round(w.gold_accuracy * 100) + "% of " + w.gold_judged;
          tr.append(cell(w.worker), cell(String(w.judgments), "num"), cell(fmt("median_seconds", w.median_seconds), "num"), cell(gold, "num"));
          if (workerTable.dataset.codes) {
            const td = cell(""), code = document.createElement("code");
            code.textContent = w.completion_code || "";
            td.append(code);
            tr.append(td);
          }
          return tr;
        }));
      })
      .catch(() => {});
  }

  const targets = Array.from(document.querySelectorAll("[data-progress-url]"))
    .filter((el) => ["running", "paused"].includes(el.dataset.status));
  if (!targets.length) return;
  function refresh() {
    refreshWorkers();
    targets.forEach((el) => {
      fetch(el.dataset.progressUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then((r) => (r.ok ? r.json() : null))
        .then((p) => {
          if (!p) return;
          el.querySelectorAll("[data-field]").forEach((f) => { f.textContent = fmt(f.dataset.field, p[f.dataset.field]); });
          const bar = el.querySelector("progress");
          if (bar) { bar.max = p.items_total || 1; bar.value = p.items_complete; }
          // On a batch's own page a change of status (it completed) changes its buttons: reload.
          if (p.status !== el.dataset.status && el.dataset.reloadOnStatus) window.location.reload();
        })
        .catch(() => {});
    });
  }
  setInterval(refresh, 5000);
})();
