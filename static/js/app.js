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
})();
