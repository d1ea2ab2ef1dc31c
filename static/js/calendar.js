// Origin calendar pages: one small enhancement (everything works without JavaScript).
(function () {
  "use strict";
  // The day sheet's Print button: hidden until this script runs (printing from the browser works anyway).
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });
})();
