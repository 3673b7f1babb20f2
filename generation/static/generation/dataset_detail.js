// The dataset page: a behaviour template button fills the description and selects its "…", so that
// typing replaces it with the researcher's words.
(function () {
  "use strict";
  const form = document.getElementById("dataset-form");
  if (!form) return;
  const text = form.querySelector("textarea[name=behavior]");
  form.addEventListener("click", (event) => {
    const button = event.target.closest("[data-behavior-template]");
    if (!button || !text) return;
    text.value = button.dataset.behaviorTemplate;
    text.focus();
    const blank = text.value.indexOf("…");
    if (blank >= 0) text.setSelectionRange(blank, blank + 1);
  });
})();
