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

  // A page re-rendered after a failed POST (422/409) names its GET address in <main data-location>:
  // put it in the address bar (a reload is then a GET, never a resubmission), then move focus to the
  // first invalid field of the form that failed (data-focus-form), or to the alert, and show it.
  var main = document.getElementById("main");
  if (main) {
    var address = main.getAttribute("data-location");
    if (address && window.history && window.history.replaceState) {
      window.history.replaceState(null, "", address);
    }
    var formId = main.getAttribute("data-focus-form");
    var failed = formId ? document.getElementById(formId) : null;
    var target = (failed && failed.querySelector('[aria-invalid="true"]')) || document.getElementById("page-alert");
    if (target) {
      // After the load: the browser's own jump to the URL's #fragment would otherwise take the focus back.
      var show = function () {
        target.focus({ preventScroll: true });
        target.scrollIntoView({ block: "center" });
      };
      if (document.readyState === "complete") { window.setTimeout(show, 0); }
      else { window.addEventListener("load", function () { window.setTimeout(show, 0); }); }
    }
  }

  // Copy buttons (the one-time activation link): data-copy-target names the input to copy.
  document.addEventListener("click", function (event) {
    var button = event.target && event.target.closest ? event.target.closest("[data-copy-target]") : null;
    if (!button) { return; }
    var input = document.getElementById(button.getAttribute("data-copy-target"));
    if (!input) { return; }
    var done = function () {
      button.textContent = button.getAttribute("data-copied-text") || "Copied";
    };
    input.focus();
    input.select();
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(input.value).then(done, function () {
        if (document.execCommand("copy")) { done(); }
      });
    } else if (document.execCommand("copy")) {
      done();
    }
  });
})();
