// Live progress of a generation run: poll its progress endpoint until the run has finished.
(function () {
  const root = document.getElementById("run");
  const done = ["done", "failed", "cancelled"];
  function cell(text) { const td = document.createElement("td"); td.textContent = text; return td; }
  async function poll() {
    const p = await fetch(root.dataset.progressUrl, { credentials: "same-origin" }).then((r) => r.json()).catch(() => null);
    if (p) {
      document.getElementById("run-status").textContent = p.status;
      document.getElementById("run-error").textContent = p.error || "";
      const stages = document.getElementById("stages");
      stages.innerHTML = "";
      p.stages.forEach((s) => {
        const label = document.createElement("label");
        const bar = document.createElement("progress");
        bar.max = s.total || 1; bar.value = s.done;
        label.append(s.stage + " ", bar, " " + s.done + " / " + s.total);
        stages.append(label);
      });
      for (const [k, v] of Object.entries(p.funnel)) {
        const el = document.querySelector('[data-funnel="' + k + '"]');
        if (el) el.textContent = v === null ? "–" : v;
      }
      const table = document.getElementById("preview");
      table.querySelectorAll("tr:not(:first-child)").forEach((tr) => tr.remove());
      p.preview.forEach((c) => {
        const tr = document.createElement("tr");
        const scores = c.scores ? Object.entries(c.scores).map(([k, v]) => k + " " + v.toFixed(3)).join(" ") : "";
        tr.append(cell(c.parsed), cell(c.label), cell(scores));
        table.append(tr);
      });
      if (p.dataset) {
        const a = document.getElementById("launch-batch");
        a.hidden = false; a.href = a.href.split("?")[0] + "?datasets=" + p.dataset;
        // Built as nodes, not innerHTML: the slug is text someone typed.
        const link = document.createElement("a");
        link.href = "/datasets/" + encodeURIComponent(p.dataset) + "/";
        link.textContent = p.dataset_slug;
        document.getElementById("dataset-link").replaceChildren("Dataset: ", link);
      }
      if (done.includes(p.status)) return;
    }
    setTimeout(poll, 2000);
  }
  poll();
})();
