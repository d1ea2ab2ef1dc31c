/* A live strength hint under every new-password field (issue 11, item 3).
 *
 * Markup: data-password-strength on the <input type="password"> itself, or on an element around it
 * (templates/_macros/forms.html renders the input, so the account and activation pages wrap it);
 * data-password-min="N" on it or around it gives the server's PASSWORD_MIN_LENGTH. The
 * hint is added after the field's help text: how many characters (counted as the server counts them,
 * in code points, so an emoji is one), a rough strength estimate with a bar, and one tip. It is a
 * polite live region, updated a moment after typing stops, so a screen reader is not interrupted at
 * every key.
 *
 * This is an estimate and nothing more: the server (services/password_policy.py) is the judge, with
 * the full list of 30,000 common passwords and the account's own words. No library, no network, no
 * inline script or style (CSP): the bar's width is set through the CSSOM.
 */
(function () {
  "use strict";

  var DEFAULT_MIN = 8;  // PASSWORD_MIN_LENGTH's default; a data-password-min="N" around the field overrides it
  var MAX = 128;
  var LEVELS = [
    { word: "very weak", bar: "bg-danger", width: "10%" },
    { word: "weak", bar: "bg-danger", width: "30%" },
    { word: "fair", bar: "bg-warning", width: "55%" },
    { word: "good", bar: "bg-info", width: "80%" },
    { word: "strong", bar: "bg-success", width: "100%" }
  ];
  // A few of the most common passwords and words in them; the server checks the whole list.
  var COMMON = ["password", "passw0rd", "qwerty", "azerty", "letmein", "welcome", "iloveyou", "admin",
    "monkey", "dragon", "football", "baseball", "sunshine", "princess", "master", "shadow", "superman",
    "trustno1", "abc123", "123123", "111111", "000000", "654321", "login", "secret", "origin"];
  var SEQUENCES = ["abcdefghijklmnopqrstuvwxyz", "qwertyuiopasdfghjklzxcvbnm", "01234567890"];

  function codePoints(text) {
    return Array.from(text);
  }

  /* Rough bits of guessing work: a run of letters counts like a dictionary word (about 10 bits plus 2
     a letter, never more than random letters would give), a capital adds 1, digits 3.3 each, any
     other character 5 (an emoji or a letter outside a-z: 7), a space 1. */
  function bitsOf(text) {
    var bits = 0;
    var tokens = text.match(/[A-Za-z]+|[0-9]+|\s+|[^A-Za-z0-9\s]/gu) || [];
    tokens.forEach(function (token) {
      if (/^[A-Za-z]+$/.test(token)) {
        var length = token.length;
        bits += Math.min(length * Math.log2(26), 10 + 2 * length) + (/[A-Z]/.test(token) ? 1 : 0);
      } else if (/^[0-9]+$/.test(token)) {
        bits += token.length * Math.log2(10);
      } else if (/^\s+$/.test(token)) {
        bits += 1;
      } else {
        bits += /[\x21-\x7e]/.test(token) ? 5 : 7;
      }
    });
    return bits;
  }

  function hasSequence(lower) {
    for (var i = 0; i + 4 <= lower.length; i += 1) {
      var part = lower.slice(i, i + 4);
      var reversed = part.split("").reverse().join("");
      for (var s = 0; s < SEQUENCES.length; s += 1) {
        if (SEQUENCES[s].indexOf(part) !== -1 || SEQUENCES[s].indexOf(reversed) !== -1) { return true; }
      }
    }
    return false;
  }

  /* {level: 0..4, tip: string}: bitsOf(), less what the usual patterns give away (common words,
     sequences, repeats, digits only, years). */
  function estimate(text) {
    var chars = codePoints(text);
    var lower = text.toLowerCase();
    var unique = new Set(chars).size;
    var bits = bitsOf(text);
    var tip = "";
    var common = COMMON.filter(function (word) { return lower.indexOf(word) !== -1; });
    if (common.length) {
      bits = Math.min(bits, 30);
      tip = "It contains \u201c" + common[0] + "\u201d, one of the first things attackers try.";
    } else if (hasSequence(lower.replace(/\s+/g, ""))) {
      bits -= 15;
      tip = "Runs like \u201cabcd\u201d or \u201c1234\u201d are easy to guess.";
    } else if (unique <= 3) {
      bits = Math.min(bits, 20);
      tip = "Repeated characters are easy to guess.";
    } else if (/^[0-9]+$/.test(text)) {
      bits -= 10;
      tip = "Digits alone are quickly guessed; words work better.";
    } else if (/(19|20)[0-9]{2}/.test(text)) {
      bits -= 5;
      tip = "Years and dates are often guessed.";
    }
    var level = bits < 28 ? 0 : bits < 40 ? 1 : bits < 55 ? 2 : bits < 70 ? 3 : 4;
    if (!tip && level < 3) { tip = "Longer is stronger: add a word or two."; }
    return { level: level, tip: tip };
  }

  function describe(text, min) {
    var MIN = min || DEFAULT_MIN;
    var length = codePoints(text).length;
    if (!length) { return null; }
    var count = length + " character" + (length === 1 ? "" : "s");
    if (length < MIN) {
      var missing = MIN - length;
      return { level: 0, text: count + ": " + missing + " more needed (at least " + MIN + ")." };
    }
    if (length > MAX) {
      return { level: 0, text: count + ": too long, at most " + MAX + "." };
    }
    var result = estimate(text);
    return {
      level: result.level,
      text: count + ". Estimated strength: " + LEVELS[result.level].word + "." + (result.tip ? " " + result.tip : "")
    };
  }

  function attach(input) {
    if (input.dataset.passwordStrengthReady) { return; }
    input.dataset.passwordStrengthReady = "1";
    var id = (input.id || "password") + "-strength";
    var box = document.createElement("div");
    box.className = "password-strength mb-3";
    var bar = document.createElement("div");
    bar.className = "progress d-none";
    bar.setAttribute("aria-hidden", "true");
    bar.style.setProperty("--bs-progress-height", "0.375rem");
    var fill = document.createElement("div");
    fill.className = "progress-bar";
    bar.appendChild(fill);
    var hint = document.createElement("div");
    hint.className = "form-text mt-1";
    hint.id = id;
    hint.setAttribute("aria-live", "polite");
    box.appendChild(bar);
    box.appendChild(hint);
    var wrapper = input.closest(".mb-3") || input.parentNode;
    wrapper.classList.add("mb-2");
    wrapper.classList.remove("mb-3");
    wrapper.parentNode.insertBefore(box, wrapper.nextSibling);
    var described = (input.getAttribute("aria-describedby") || "").split(/\s+/).filter(Boolean);
    described.push(id);
    input.setAttribute("aria-describedby", described.join(" "));

    var timer = null;
    function update() {
      var holder = input.closest("[data-password-min]");
      var result = describe(input.value, holder ? parseInt(holder.getAttribute("data-password-min"), 10) : 0);
      if (!result) {
        bar.classList.add("d-none");
        hint.textContent = "";
        return;
      }
      var level = LEVELS[result.level];
      bar.classList.remove("d-none");
      fill.className = "progress-bar " + level.bar;
      fill.style.width = level.width;
      hint.textContent = result.text;
    }
    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(update, 400);
    });
    input.addEventListener("blur", update);
    if (input.value) { update(); }
  }

  function init() {
    document.querySelectorAll("[data-password-strength]").forEach(function (el) {
      if (el.matches("input")) { attach(el); return; }
      el.querySelectorAll("input[type=password]").forEach(attach);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
  window.OriginPasswordStrength = { describe: describe };
})();
