// Small behaviours any page may ask for with a data- attribute. No inline script or event handler
// anywhere: the Content-Security-Policy (script-src 'self') would block them.
(function () {
  "use strict";
  // <input data-select-on-click>: a click selects the whole value (links to copy).
  document.addEventListener("click", (event) => {
    const field = event.target.closest("[data-select-on-click]");
    if (field) field.select();
  });
  // <form data-confirm="Question?">: ask before submitting.
  document.addEventListener("submit", (event) => {
    const form = event.target.closest("form[data-confirm]");
    if (form && !window.confirm(form.dataset.confirm)) event.preventDefault();
  });
  // data-height / data-left / data-width (percent): sizes for bars and intervals, set through the
  // DOM because style="" attributes are blocked by the policy (style-src 'self').
  function size() {
    document.querySelectorAll("[data-height], [data-left], [data-width]").forEach((el) => {
      for (const prop of ["height", "left", "width"]) {
        if (el.dataset[prop] !== undefined) el.style[prop] = el.dataset[prop] + "%";
      }
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", size);
  else size();
})();
