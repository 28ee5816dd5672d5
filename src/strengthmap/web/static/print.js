document.addEventListener("DOMContentLoaded", function () {
  "use strict";
  var b = document.getElementById("print-page");
  if (b) { b.addEventListener("click", function () { window.print(); }); }
});
