// The batch form: of the datasets still described by their file name, list those chosen in the
// dataset select, as the choice changes; the note hides when none is chosen.
(function () {
  "use strict";
  const note = document.getElementById("default-behavior");
  if (!note) return;
  const select = document.getElementById(note.dataset.for);
  if (!select) return;
  function update() {
    const chosen = new Set(Array.from(select.selectedOptions, (o) => o.value));
    let shown = 0;
    note.querySelectorAll("li[data-dataset-id]").forEach((li) => {
      li.hidden = !chosen.has(li.dataset.datasetId);
      if (!li.hidden) shown += 1;
    });
    note.hidden = shown === 0;
  }
  select.addEventListener("change", update);
  update();
})();
