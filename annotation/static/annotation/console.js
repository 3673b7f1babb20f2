// Live progress on the researcher's console: poll each batch's progress endpoint.
(function () {
  "use strict";
  const targets = document.querySelectorAll("[data-progress-url]");
  if (!targets.length) return;
  function fmt(field, value) {
    if (value === null || value === undefined) return "–";
    if (field === "median_seconds") return Number(value).toFixed(1);
    if (field === "eta_seconds") return Math.round(value) + " s";
    return String(value);
  }
  function refresh() {
    targets.forEach((el) => {
      fetch(el.dataset.progressUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then((r) => (r.ok ? r.json() : null))
        .then((p) => {
          if (!p) return;
          el.querySelectorAll("[data-field]").forEach((f) => { f.textContent = fmt(f.dataset.field, p[f.dataset.field]); });
          const bar = el.querySelector("progress");
          if (bar) { bar.max = p.items_total || 1; bar.value = p.items_complete; }
        })
        .catch(() => {});
    });
  }
  setInterval(refresh, 5000);
})();
