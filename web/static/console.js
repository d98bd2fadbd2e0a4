// The console works without this file: it adds a copy button for new
// tokens and a filter for long scope lists.
"use strict";
document.documentElement.classList.add("js");
document.addEventListener("click", function (ev) {
  var b = ev.target.closest("[data-copy]");
  if (!b) return;
  var field = document.querySelector(b.getAttribute("data-copy"));
  if (!field) return;
  field.select();
  if (navigator.clipboard) {
    navigator.clipboard.writeText(field.value).then(function () { b.textContent = "Copied"; });
  } else {
    document.execCommand("copy");
    b.textContent = "Copied";
  }
});
document.addEventListener("input", function (ev) {
  var sel = ev.target.getAttribute && ev.target.getAttribute("data-filter");
  if (!sel) return;
  var q = ev.target.value.toLowerCase();
  document.querySelectorAll(sel).forEach(function (el) {
    el.hidden = q !== "" && el.textContent.toLowerCase().indexOf(q) < 0;
  });
});
