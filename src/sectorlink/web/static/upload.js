// Show a progress note while a form that checks or loads a file is being answered.
document.querySelectorAll("form.with-progress").forEach(function (form) {
  form.addEventListener("submit", function () {
    var note = form.querySelector(".progress-note");
    if (note) { note.hidden = false; }
    form.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
  });
});
