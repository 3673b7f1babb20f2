// The diversity map: progress while it is computed, then a canvas scatter of its points, coloured
// by label or crowd outcome, filtered by label confidence, with the example's text on hover.
// Canvas, not SVG: a collection map has 100k+ points. Hover looks up the nearest point in a grid.
(function () {
  const root = document.getElementById("map");
  if (!root) return;
  const PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];
  const OUTCOME_COLOURS = { "validated": "#2ca02c", "not validated": "#d62728", "not judged": "#bbbbbb" };
  const HOVER = 8, CELL = 16;

  async function pollProgress() {
    const p = await fetch(root.dataset.progressUrl, { credentials: "same-origin" }).then((r) => r.json()).catch(() => null);
    if (p) {
      document.getElementById("map-status").textContent = p.status;
      document.getElementById("map-error").textContent = p.error || "";
      document.getElementById("map-stage").textContent = p.stage || "waiting for a worker";
      const bar = document.getElementById("map-bar");
      bar.max = p.examples_total || 1; bar.value = p.examples_embedded;
      document.getElementById("map-count").textContent = p.examples_embedded + " / " + p.examples_total;
      if (p.status === "done") { window.location.reload(); return; }
      if (p.status === "failed") return;
    }
    setTimeout(pollProgress, 2000);
  }

  function draw(data) {
    const canvas = document.getElementById("map-canvas");
    const ctx = canvas.getContext("2d");
    const tooltip = document.getElementById("map-tooltip");
    const colourBy = document.getElementById("colour-by");
    const slider = document.getElementById("min-confidence");
    const n = data.id.length;
    const RADIUS = n < 2000 ? 4 : 2;  // large maps: small dots, or they hide each other
    if (data.outcome) {
      const option = document.createElement("option");
      option.value = "outcome"; option.textContent = "crowd outcome";
      colourBy.append(option);
    }
    let minX = Infinity, maxX = -Infinity, minY = Infinity, maxY = -Infinity;
    for (let i = 0; i < n; i++) {
      minX = Math.min(minX, data.x[i]); maxX = Math.max(maxX, data.x[i]);
      minY = Math.min(minY, data.y[i]); maxY = Math.max(maxY, data.y[i]);
    }
    const pad = 12, w = canvas.width - 2 * pad, h = canvas.height - 2 * pad;
    const px = new Float32Array(n), py = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      px[i] = pad + (maxX > minX ? (data.x[i] - minX) / (maxX - minX) : 0.5) * w;
      py[i] = pad + (maxY > minY ? 1 - (data.y[i] - minY) / (maxY - minY) : 0.5) * h;
    }
    const labelColour = {};
    data.labels.forEach((label, k) => { labelColour[label] = PALETTE[k % PALETTE.length]; });
    let visible = [], grid = new Map();

    function colourOf(i) {
      return colourBy.value === "outcome" ? OUTCOME_COLOURS[data.outcome[i]] : labelColour[data.label[i]];
    }
    function legend() {
      const list = document.getElementById("map-legend");
      list.replaceChildren();
      const entries = colourBy.value === "outcome" ? data.outcomes.map((o) => [o, OUTCOME_COLOURS[o]]) : data.labels.map((l) => [l || "(no label)", labelColour[l]]);
      entries.forEach(([name, colour]) => {
        const li = document.createElement("li");
        const dot = document.createElement("span");
        dot.className = "swatch"; dot.style.background = colour;
        li.append(dot, name);
        list.append(li);
      });
    }
    function render() {
      const least = parseFloat(slider.value);
      document.getElementById("min-confidence-value").textContent = least.toFixed(2);
      visible = []; grid = new Map();
      ctx.clearRect(0, 0, canvas.width, canvas.height);
      for (let i = 0; i < n; i++) {
        const c = data.confidence[i];
        // An example without a confidence (multiple choice, Winogender) shows only while the filter is off.
        if (least > 0 && (c === null || c < least)) continue;
        visible.push(i);
        const key = Math.floor(px[i] / CELL) + ":" + Math.floor(py[i] / CELL);
        if (!grid.has(key)) grid.set(key, []);
        grid.get(key).push(i);
        ctx.fillStyle = colourOf(i);
        ctx.globalAlpha = 0.75;
        ctx.beginPath(); ctx.arc(px[i], py[i], RADIUS, 0, 2 * Math.PI); ctx.fill();
      }
      ctx.globalAlpha = 1;
      root.dataset.shown = String(visible.length);
      document.getElementById("shown").textContent = visible.length + " of " + n + " examples shown";
      legend();
    }
    function nearest(x, y) {
      let best = -1, bestD = HOVER * HOVER;
      const cx = Math.floor(x / CELL), cy = Math.floor(y / CELL);
      for (let dx = -1; dx <= 1; dx++) for (let dy = -1; dy <= 1; dy++) {
        for (const i of grid.get((cx + dx) + ":" + (cy + dy)) || []) {
          const d = (px[i] - x) ** 2 + (py[i] - y) ** 2;
          if (d <= bestD) { bestD = d; best = i; }
        }
      }
      return best;
    }
    canvas.addEventListener("mousemove", (event) => {
      const box = canvas.getBoundingClientRect();
      const scale = canvas.width / box.width;
      const i = nearest((event.clientX - box.left) * scale, (event.clientY - box.top) * scale);
      if (i < 0) { tooltip.hidden = true; return; }
      const c = data.confidence[i];
      const lines = [data.text[i], "label: " + (data.label[i] || "(none)") + " · confidence: " + (c === null ? "–" : c.toFixed(3)), "dataset: " + data.dataset[i]];
      if (data.outcome) lines.push("crowd: " + data.outcome[i]);
      tooltip.textContent = lines.join("\n");  // text, never HTML: examples are model-written
      tooltip.hidden = false;
      // Beside the pointer, kept inside the canvas: above it in the lower half, left of it in the right half.
      const x = event.clientX - box.left, y = event.clientY - box.top;
      tooltip.style.left = (x > box.width / 2 ? Math.max(0, x - 12 - tooltip.offsetWidth) : x + 12) + "px";
      tooltip.style.top = (y > box.height / 2 ? Math.max(0, y - 12 - tooltip.offsetHeight) : y + 12) + "px";
    });
    canvas.addEventListener("mouseleave", () => { tooltip.hidden = true; });
    colourBy.addEventListener("change", render);
    slider.addEventListener("input", render);
    render();
    root.dataset.ready = "true";
  }

  const status = root.dataset.status;
  if (status === "queued" || status === "running") pollProgress();
  if (status === "done") {
    fetch(root.dataset.pointsUrl, { credentials: "same-origin" }).then((r) => r.json()).then(draw)
      .catch(() => { document.getElementById("map-error").textContent = "Could not load the map's points."; });
  }
})();
