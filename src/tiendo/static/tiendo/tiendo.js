// Behaviour the pages need beyond htmx, bound from data- attributes: the Content Security
// Policy allows no inline <script> and no on*= handlers.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    // <a data-close=".card">: remove the nearest enclosing element matching the selector
    var closer = event.target.closest("[data-close]");
    if (closer) {
      var box = closer.closest(closer.getAttribute("data-close"));
      if (box) {
        event.preventDefault();
        box.remove();
      }
    }
  });
  document.addEventListener("submit", function (event) {
    // <form data-confirm="…">: ask before a step that cannot be taken back
    var form = event.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  });
})();

// The letter form's recipient tree (<fieldset data-unit-picker>): ticking a unit ticks the
// units below it, a parent whose subtree is partly ticked shows a dash (tri-state), the
// quick choices tick every unit of their level, the search box filters the tree as one
// types, accents aside. The page works without this: the server then expands a ticked
// unit to its subtree; with it, the hidden recipients_exact=1 asks the server to take the
// ticks literally, since the page has already ticked what the user sees.
(function () {
  "use strict";

  function fold(text) {
    return (text || "")
      .replace(/đ/g, "d")
      .replace(/Đ/g, "D")
      .normalize("NFD")
      .replace(/[\u0300-\u036f]/g, "")
      .toLowerCase()
      .replace(/\s+/g, " ")
      .trim();
  }

  function boxOf(node) {
    return node.querySelector(":scope > label > input[type=checkbox]");
  }

  function below(node) {
    return Array.prototype.slice.call(
      node.querySelectorAll(":scope > details input[type=checkbox]")
    );
  }

  function matchesGroup(box, key) {
    var agency = box.getAttribute("data-agency") === "1";
    var level = box.getAttribute("data-level");
    if (key === "agency") return agency;
    if (key === "district") return !agency && level === "2";
    if (key === "commune") return !agency && level === "3";
    return false;
  }

  function setup(picker) {
    var form = picker.closest("form");
    var nodes = Array.prototype.slice.call(picker.querySelectorAll("[data-picker-node]"));
    var treeBoxes = nodes.map(boxOf);
    var groups = Array.prototype.slice.call(picker.querySelectorAll("[data-picker-group]"));
    var root = picker.querySelector("[data-picker-root]");
    var counter = picker.querySelector("[data-picker-count]");
    var countText = picker.getAttribute("data-count-text") || "%(n)s";

    var exact = document.createElement("input");
    exact.type = "hidden";
    exact.name = "recipients_exact";
    exact.value = "1";
    form.appendChild(exact);

    function refresh() {
      // parents, deepest first, show a dash when their subtree is partly ticked
      for (var i = nodes.length - 1; i >= 0; i--) {
        var box = treeBoxes[i];
        var kids = below(nodes[i]);
        if (!kids.length) continue;
        var on = kids.filter(function (b) { return b.checked; }).length;
        var uniform = (on === kids.length && box.checked) || (on === 0 && !box.checked);
        box.indeterminate = !uniform;
      }
      groups.forEach(function (g) {
        var key = g.getAttribute("data-picker-group");
        var members = treeBoxes.filter(function (b) { return matchesGroup(b, key); });
        var on = members.filter(function (b) { return b.checked; }).length;
        g.checked = members.length > 0 && on === members.length;
        g.indeterminate = on > 0 && on < members.length;
      });
      var total = treeBoxes.filter(function (b) { return b.checked; }).length;
      if (root && root.checked) total += 1;
      if (counter) counter.textContent = countText.replace("%(n)s", total.toLocaleString("vi-VN"));
    }

    picker.addEventListener("change", function (event) {
      var box = event.target;
      if (box.hasAttribute("data-picker-group")) {
        var key = box.getAttribute("data-picker-group");
        treeBoxes.forEach(function (b) {
          if (matchesGroup(b, key)) b.checked = box.checked;
        });
      } else if (box.name === "recipients" && !box.hasAttribute("data-picker-root")) {
        var node = box.closest("[data-picker-node]");
        below(node).forEach(function (b) { b.checked = box.checked; });
        var details = node.querySelector(":scope > details");
        if (details && box.checked) details.open = true; // show what was ticked with it
      }
      refresh();
    });

    var search = picker.querySelector("[data-picker-search]");
    var button = picker.querySelector("[data-picker-search-button]");
    if (button) button.hidden = true;
    var results = picker.querySelector("#search-results");
    if (results) results.hidden = true;
    function filter() {
      var needle = fold(search.value);
      nodes.forEach(function (node) {
        node.hidden = false;
        node.classList.remove("match");
      });
      if (!needle) return;
      for (var i = nodes.length - 1; i >= 0; i--) {
        var node = nodes[i];
        var hit = (node.getAttribute("data-name") || "").indexOf(needle) !== -1;
        var shown = Array.prototype.some.call(
          node.querySelectorAll(":scope > details > ul > [data-picker-node]"),
          function (child) { return !child.hidden; }
        );
        if (hit) node.classList.add("match");
        node.hidden = !(hit || shown);
        var details = node.querySelector(":scope > details");
        if (details && shown) details.open = true;
      }
    }
    if (search) {
      search.addEventListener("input", filter);
      search.addEventListener("keydown", function (event) {
        if (event.key === "Enter") event.preventDefault(); // filtering is live
      });
      filter();
    }
    refresh();
  }

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-unit-picker]"), setup);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
