// Poll the job until it has finished, then reload so the server renders the summary.
(function () {
  const box = document.getElementById("job");
  if (!["queued", "running"].includes(box.dataset.status)) return;
  const bar = document.getElementById("job-progress"), rows = document.getElementById("job-rows");
  async function poll() {
    try {
      const r = await fetch(box.dataset.statusUrl, {headers: {Accept: "application/json"}, credentials: "same-origin"});
      if (r.ok) {
        const job = await r.json();
        if (!["queued", "running"].includes(job.status)) { location.reload(); return; }
        document.getElementById("job-status").textContent = job.status;
        bar.max = job.rows_total || 1; bar.value = job.rows_done;
        rows.textContent = job.rows_done.toLocaleString() + " of " + job.rows_total.toLocaleString();
      }
    } catch (e) { /* a dropped request: try again on the next tick */ }
    setTimeout(poll, 1000);
  }
  setTimeout(poll, 500);
})();
