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
