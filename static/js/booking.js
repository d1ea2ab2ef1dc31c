// The booking form (templates/events/form.html): live conflicts and small conveniences. Ours, no library;
// the form works the same without it ("Check this slot" asks the server).
//
// Contract with the page: <form data-conflicts-url data-live-target data-accept-target data-search-form
// data-icon-sprite>.
// When a slot field changes (debounced) the form's values go to GET data-conflicts-url (the JSON API,
// same origin, session cookie) and its answer is shown in the aria-live region data-live-target:
// {"conflicts": [...]} as a list ("No conflicts" when empty), a 422 as what is still wrong. A slot with a
// field plainly missing (or ending before it starts) is not sent: the region says what to fill in.
// The accept-warnings checkbox (data-accept-target) is offered only while the slot has warnings alone.
(function () {
  "use strict";
  var form = document.querySelector("form[data-conflicts-url]");
  var panel = document.querySelector("[data-focus-on-load]");
  var main = document.getElementById("main");
  if (panel && !(main && main.getAttribute("data-focus-form"))) {
    window.addEventListener("load", function () {
      window.setTimeout(function () { panel.focus({ preventScroll: true }); panel.scrollIntoView({ block: "start" }); }, 0);
    });
  }
  if (!form) { return; }

  var SLOT = ["student_id", "instructor_id", "vehicle_id", "branch_id", "event_type", "date", "start_time", "end_time"];
  var REQUIRED = ["student_id", "instructor_id", "date", "start_time", "end_time"];
  var live = document.getElementById(form.getAttribute("data-live-target"));
  var accept = document.getElementById(form.getAttribute("data-accept-target"));
  var search = document.getElementById(form.getAttribute("data-search-form"));
  var sprite = form.getAttribute("data-icon-sprite");
  var timer = null;
  var asked = 0;

  function control(name) { return form.elements.namedItem(name); }
  function value(name) { var c = control(name); return c && c.value ? c.value.trim() : ""; }
  function labelOf(name) {
    var c = control(name);
    var label = c && c.id ? form.querySelector('label[for="' + c.id + '"]') : null;
    return label ? label.textContent.replace("*", "").trim() : name;
  }

  function offerAccept(show) {
    if (!accept) { return; }
    accept.hidden = !show;
    if (!show) { var box = accept.querySelector("input[type=checkbox]"); if (box) { box.checked = false; } }
  }

  function icon(name) {  // the same Bootstrap Icons sprite the server's render_icon uses
    var svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.setAttribute("class", "bi");
    svg.setAttribute("width", "1em");
    svg.setAttribute("height", "1em");
    svg.setAttribute("fill", "currentColor");
    svg.setAttribute("aria-hidden", "true");
    var use = document.createElementNS("http://www.w3.org/2000/svg", "use");
    use.setAttribute("href", sprite + "#" + name);
    svg.appendChild(use);
    return svg;
  }

  function acceptLabel() {
    var label = accept ? accept.querySelector("label") : null;
    return label ? label.textContent.trim() : "accept the warnings";
  }

  function say(text) {
    live.replaceChildren();
    var p = document.createElement("p");
    p.className = "live-note mb-0";
    p.textContent = text;
    live.appendChild(p);
  }

  function show(conflicts) {
    live.replaceChildren();
    var blocks = conflicts.filter(function (c) { return c.severity === "block"; }).length;
    var heading = document.createElement("p");
    heading.className = "live-heading mb-1";
    var warns = conflicts.length - blocks;
    var count = function (n, word) { return n + " " + word + (n === 1 ? "" : "s"); };
    heading.textContent = !conflicts.length ? "No conflicts: this slot is free."
      : blocks ? "This slot cannot be booked: " + count(blocks, "blocking problem") + (warns ? " and " + count(warns, "warning") : "")
      : "This slot has " + count(warns, "warning") + ": tick “" + acceptLabel() + "” to book it.";
    live.appendChild(heading);
    if (conflicts.length) {
      var list = document.createElement("ul");
      list.className = "conflict-list list-unstyled mb-0";
      conflicts.forEach(function (c) {
        var item = document.createElement("li");
        item.className = "conflict " + (c.severity === "block" ? "conflict-block" : "conflict-warn");
        item.setAttribute("data-kind", c.kind);
        var severity = document.createElement("span");
        severity.className = "conflict-severity";
        var words = document.createElement("span");
        words.textContent = c.severity === "block" ? "Blocks booking" : "Warning";
        if (sprite) { severity.appendChild(icon(c.severity === "block" ? "x-octagon-fill" : "exclamation-triangle-fill")); }
        severity.appendChild(words);
        var message = document.createElement("span");
        message.className = "conflict-message";
        message.textContent = c.message;
        item.appendChild(severity);
        item.appendChild(message);
        list.appendChild(item);
      });
      live.appendChild(list);
    }
    offerAccept(conflicts.length > 0 && blocks === 0);
  }

  function check() {
    var stale = document.getElementById("booking-conflicts");  // the server's answer for the slot as it was
    if (stale) { stale.hidden = true; }
    // What is plainly missing is said without asking the server; anything subtler is the API's 422.
    var missing = REQUIRED.filter(function (name) { return !value(name); });
    if (missing.length) {
      asked++;
      offerAccept(false);
      say("Not checked yet. Still to fill in: " + missing.map(labelOf).join(", ") + ".");
      return;
    }
    if (value("end_time") <= value("start_time")) {
      asked++;
      offerAccept(false);
      say("Not checked yet. " + labelOf("end_time") + ": the end must be after the start.");
      return;
    }
    var params = new URLSearchParams();
    SLOT.forEach(function (name) { params.set(name, value(name)); });
    var mine = ++asked;
    say("Checking this slot…");
    fetch(form.getAttribute("data-conflicts-url") + "?" + params.toString(), {
      credentials: "same-origin", headers: { "Accept": "application/json" }
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (body) {
        if (mine !== asked) { return; }  // a newer question is on its way
        if (response.ok && body && Array.isArray(body.conflicts)) { show(body.conflicts); return; }
        offerAccept(false);
        if (response.status === 422 && body && body.fields) {
          var missing = Object.keys(body.fields).map(function (name) {
            return labelOf(name) + ": " + body.fields[name].join(" ");
          });
          say("Not checked yet. " + missing.join(" "));
          return;
        }
        say((body && body.message) || "The slot could not be checked just now; “Check this slot” asks again.");
      });
    }).catch(function () {
      if (mine === asked) { say("The slot could not be checked just now; “Check this slot” asks again."); }
    });
  }

  function changed(event) {
    var name = event.target && event.target.name;
    if (SLOT.indexOf(name) < 0) { return; }
    if (name === "start_time") { followStart(); }
    if (name === "end_time") { endTouched = true; }
    window.clearTimeout(timer);
    timer = window.setTimeout(check, 400);
  }

  // The end follows the start (an hour later) until it is changed by hand.
  var endTouched = value("end_time") !== "" && value("start_time") !== "" && !isHourAfter(value("start_time"), value("end_time"));
  function isHourAfter(start, end) { return plusHour(start) === end; }
  function plusHour(hhmm) {
    var m = /^(\d{2}):(\d{2})$/.exec(hhmm);
    if (!m) { return ""; }
    var minutes = Number(m[1]) * 60 + Number(m[2]) + 60;
    if (minutes >= 24 * 60) { return ""; }
    var pad = function (n) { return (n < 10 ? "0" : "") + n; };
    return pad(Math.floor(minutes / 60)) + ":" + pad(minutes % 60);
  }
  function followStart() {
    var end = control("end_time");
    var next = plusHour(value("start_time"));
    if (end && next && !endTouched) { end.value = next; }
  }

  form.addEventListener("change", changed);
  form.addEventListener("input", function (event) {
    if (event.target && (event.target.type === "date" || event.target.type === "time")) { changed(event); }
  });

  // Finding a student (a GET form) keeps the slot typed so far.
  if (search) {
    search.addEventListener("submit", function () {
      search.querySelectorAll("input[data-carry]").forEach(function (hidden) {
        hidden.value = value(hidden.getAttribute("data-carry"));
      });
    });
  }
})();
