// The upload page: Django keeps only each file's name, so before sending, write every chosen file's
// path relative to the chosen folder (webkitRelativePath; the bare name for single files) into
// hidden "paths" fields, in the order the view takes them: the files input's, then the folder's.
(function () {
  "use strict";
  const form = document.getElementById("upload-form");
  if (!form) return;
  form.addEventListener("submit", () => {
    form.querySelectorAll("input[type=hidden][name=paths]").forEach((el) => el.remove());
    form.querySelectorAll("input[type=file][name=files], input[type=file][name=folder]").forEach((input) => {
      for (const file of input.files) {
        const hidden = document.createElement("input");
        hidden.type = "hidden";
        hidden.name = "paths";
        hidden.value = file.webkitRelativePath || file.name;
        form.appendChild(hidden);
      }
    });
  });
})();
