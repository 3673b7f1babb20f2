// The report page's validated-export form: as the thresholds change, ask the count endpoint how
// many examples pass and point the metadata link at the same criteria. No inline script (CSP).
(function () {
  "use strict";
  function setUp() {
    const form = document.querySelector("form[data-count-url]");
    if (!form) return;
    const count = document.getElementById("validated-count");
    const meta = document.getElementById("validated-meta");
    // Not form.dataset: a form's named controls shadow its properties, and one is called "dataset".
    const countUrl = form.getAttribute("data-count-url");
    let timer = null;
    let asked = 0;
    async function update() {
      const query = new URLSearchParams(new FormData(form)).toString();
      meta.href = countUrl + "?" + query + "&download=1";
      // The page's own URL keeps the thresholds, so its self-refresh (while a report computes) keeps them.
      history.replaceState(null, "", "?" + query + "#validated");
      const mine = ++asked;
      try {
        const response = await fetch(countUrl + "?" + query, { headers: { Accept: "application/json" } });
        const data = await response.json();
        if (mine !== asked) return; // a newer answer is on its way
        count.textContent = response.ok ? `${data.passing} of ${data.examples} examples pass.` : data.error;
        count.classList.toggle("error", !response.ok);
      } catch (error) {
        if (mine === asked) count.textContent = "Could not count: " + error;
      }
    }
    form.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(update, 250);
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setUp);
  else setUp();
})();
