/* Searchable, paginated pickers (templates/_macros/picker.html): progressive enhancement.
 *
 * Without this script a picker is ticked boxes (or radio buttons) plus one page of matches, and its
 * Search / page buttons re-submit the form. With it, the matches become a listbox that searches as you
 * type (GET /api/pickers?kind=&q=&page=&branch_id=, at most 25 a page): arrow keys move through the
 * matches from the search field, Enter or a click chooses one (a ticked box, or the one radio button,
 * in the "Chosen" list, which is what the form posts). Nothing is saved until the form is submitted.
 */
(function () {
  "use strict";

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text) { node.textContent = text; }
    return node;
  }

  function Picker(root) {
    this.root = root;
    this.name = root.getAttribute("data-picker-name");
    this.key = root.getAttribute("data-picker-key") || this.name;
    this.prefix = root.getAttribute("data-picker-prefix") || this.name;
    this.multiple = root.getAttribute("data-picker-multiple") === "true";
    this.url = root.getAttribute("data-picker-url");
    this.q = root.querySelector("[data-picker-q]");
    this.chosen = root.querySelector("[data-picker-chosen]");
    this.results = root.querySelector("[data-picker-results]");
    this.status = root.querySelector("[data-picker-status]");
    this.page = 1;
    this.pages = 1;
    this.active = -1;
    this.timer = null;
    this.serial = 0;
    this.build();
  }

  Picker.prototype.build = function () {
    var self = this;
    var options = this.results.querySelector("[data-picker-options]");
    var items = [];
    options.querySelectorAll("[data-picker-item]").forEach(function (row) {
      var label = row.querySelector("label");
      var hint = label.querySelector(".picker-hint");
      var text = hint ? label.textContent.replace(hint.textContent, "").trim() : label.textContent.trim();
      items.push({ id: row.getAttribute("data-picker-item"), label: text, hint: hint ? hint.textContent : "" });
    });
    this.list = el("ul", { "class": "picker-listbox", role: "listbox", id: this.key + "-listbox",
                           "aria-label": "Matches", "aria-multiselectable": this.multiple ? "true" : "false" });
    options.replaceWith(this.list);
    var pages = this.results.querySelector("[data-picker-pages]");
    this.pager = el("div", { "class": "picker-pages btn-group btn-group-sm", role: "group", "aria-label": "Pages of matches" });
    this.prev = el("button", { type: "button", "class": "btn btn-outline-secondary" }, "Previous");
    this.next = el("button", { type: "button", "class": "btn btn-outline-secondary" }, "Next");
    this.pager.append(this.prev, this.next);
    this.page = parseInt(this.results.getAttribute("data-picker-page-now"), 10) || 1;
    this.pages = parseInt(this.results.getAttribute("data-picker-page-count"), 10) || 1;
    if (pages) {
      pages.replaceWith(this.pager);
    } else {
      this.results.appendChild(this.pager);
    }
    this.prev.addEventListener("click", function () { self.fetch(self.page - 1); });
    this.next.addEventListener("click", function () { self.fetch(self.page + 1); });
    this.render(items);
    this.updatePager();

    this.q.setAttribute("role", "combobox");
    this.q.setAttribute("aria-expanded", "true");
    this.q.setAttribute("aria-autocomplete", "list");
    this.q.setAttribute("aria-controls", this.list.id);
    this.q.addEventListener("input", function () {
      clearTimeout(self.timer);
      self.timer = setTimeout(function () { self.fetch(1); }, 250);
    });
    this.q.addEventListener("keydown", function (event) { self.key(event); });
    var search = this.root.querySelector("[data-picker-search]");
    if (search) {  // a plain button now: Enter in the form's other fields submits the form, not a search
      search.type = "button";
      search.removeAttribute("name");
      search.addEventListener("click", function () { self.fetch(1); });
    }
    this.chosen.addEventListener("change", function () { self.sync(); });
    if (this.root.getAttribute("data-picker-focus") === "1") { this.q.focus(); }
  };

  Picker.prototype.updatePager = function () {
    this.prev.disabled = this.page <= 1;
    this.next.disabled = this.page >= this.pages;
    this.pager.hidden = this.pages <= 1;
  };

  Picker.prototype.isChosen = function (id) {
    var input = this.chosen.querySelector('input[name="' + this.name + '"][value="' + id + '"]');
    return !!(input && input.checked);
  };

  Picker.prototype.render = function (items) {
    var self = this;
    this.list.textContent = "";
    this.active = -1;
    this.q.removeAttribute("aria-activedescendant");
    items.forEach(function (item) {
      var option = el("li", { role: "option", id: self.key + "-option-" + item.id, "class": "picker-option",
                              "data-id": String(item.id), "data-label": item.label, "data-hint": item.hint || "",
                              "aria-selected": self.isChosen(item.id) ? "true" : "false" }, item.label);
      if (item.hint) { option.appendChild(el("span", { "class": "picker-hint" }, " " + item.hint)); }
      option.addEventListener("mousedown", function (event) { event.preventDefault(); });
      option.addEventListener("click", function () { self.choose(option); self.q.focus(); });
      self.list.appendChild(option);
    });
  };

  Picker.prototype.fetch = function (page) {
    var self = this;
    var serial = ++this.serial;
    var params = new URLSearchParams({ kind: this.root.getAttribute("data-picker-kind"), q: this.q.value,
                                       page: String(Math.max(1, page)) });
    var branch = this.root.getAttribute("data-picker-branch");
    if (branch) { params.set("branch_id", branch); }
    if (this.root.getAttribute("data-picker-enrolled")) { params.set("enrolled", "1"); }
    this.status.textContent = "Searching…";
    fetch(this.url + "?" + params.toString(), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.json();
      })
      .then(function (data) {
        if (serial !== self.serial) { return; }
        self.page = data.page;
        self.pages = data.pages;
        self.render(data.items);
        self.updatePager();
        var first = data.total ? (data.page - 1) * data.per_page + 1 : 0;
        self.status.textContent = data.total
          ? first + "–" + (first + data.items.length - 1) + " of " + (data.total_label || data.total) + (data.q ? " matching “" + data.q + "”" : "")
            + (data.pages > 1 ? " (page " + data.page + " of " + (data.pages_label || data.pages) + ")" : "") + ". Use the arrow keys and Enter to choose."
          : "Nothing matches" + (data.q ? " “" + data.q + "”" : "") + ".";
      })
      .catch(function () {
        if (serial === self.serial) { self.status.textContent = "The search failed; press Search to try again."; }
      });
  };

  Picker.prototype.options = function () { return Array.prototype.slice.call(this.list.querySelectorAll("[role=option]")); };

  Picker.prototype.move = function (step) {
    var options = this.options();
    if (!options.length) { return; }
    this.active = Math.min(options.length - 1, Math.max(0, this.active + step));
    options.forEach(function (o, i) { o.classList.toggle("active", i === this.active); }, this);
    var current = options[this.active];
    this.q.setAttribute("aria-activedescendant", current.id);
    current.scrollIntoView({ block: "nearest" });
  };

  Picker.prototype.key = function (event) {
    if (event.key === "ArrowDown") { event.preventDefault(); this.move(1); }
    else if (event.key === "ArrowUp") { event.preventDefault(); this.move(-1); }
    else if (event.key === "Enter") {
      event.preventDefault();  // never submits the form from the search field
      var options = this.options();
      if (this.active >= 0 && options[this.active]) { this.choose(options[this.active]); } else { this.fetch(1); }
    } else if (event.key === "Escape" && this.q.value) { event.preventDefault(); this.q.value = ""; this.fetch(1); }
  };

  Picker.prototype.choose = function (option) {
    var id = option.getAttribute("data-id");
    var input = this.chosen.querySelector('input[name="' + this.name + '"][value="' + id + '"]');
    if (this.multiple && input) {
      input.checked = !input.checked;
    } else {
      if (!input) {
        var row = el("div", { "class": "form-check", "data-picker-item": id });
        input = el("input", { "class": "form-check-input", type: this.multiple ? "checkbox" : "radio", name: this.name,
                              id: this.prefix + "-" + id, value: id });
        var label = el("label", { "class": "form-check-label", "for": this.prefix + "-" + id }, option.getAttribute("data-label"));
        if (option.getAttribute("data-hint")) { label.appendChild(el("span", { "class": "picker-hint" }, " " + option.getAttribute("data-hint"))); }
        row.append(input, label);
        this.chosen.appendChild(row);
      }
      input.checked = true;
    }
    var none = this.chosen.querySelector("[data-picker-none]");
    if (none) { none.hidden = true; }
    input.dispatchEvent(new Event("change", { bubbles: true }));
    this.sync();
  };

  Picker.prototype.sync = function () {
    var self = this;
    this.options().forEach(function (o) { o.setAttribute("aria-selected", self.isChosen(o.getAttribute("data-id")) ? "true" : "false"); });
  };

  document.querySelectorAll("[data-picker]").forEach(function (root) { root.picker = new Picker(root); });
})();
