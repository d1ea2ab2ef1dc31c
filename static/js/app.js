// Origin: small progressive enhancements (no inline scripts; CSP script-src 'self').
(function () {
  "use strict";
  // Expose the CSRF token for JSON calls: fetch(url, {headers: Origin.csrfHeaders()}).
  var meta = document.querySelector('meta[name="csrf-token"]');
  window.Origin = {
    csrfHeaders: function (extra) {
      var headers = Object.assign({}, extra || {});
      if (meta) { headers["X-CSRFToken"] = meta.getAttribute("content"); }
      return headers;
    }
  };
  // Forms with data-confirm ask before submitting (archive, delete). Without JavaScript they submit as usual.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var message = form && form.getAttribute && form.getAttribute("data-confirm");
    if (message && !window.confirm(message)) { event.preventDefault(); }
  });
})();
