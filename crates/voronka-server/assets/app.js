// Voronka web UI: small keyboard and clipboard helpers. Pages work without it.
(function () {
  "use strict";

  function typing(el) {
    if (!el) return false;
    var tag = el.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || el.isContentEditable;
  }

  // Rows with data-href open on click (links inside keep their own behaviour).
  document.addEventListener("click", function (e) {
    var row = e.target.closest && e.target.closest("tr[data-href]");
    if (!row || e.target.closest("a, button, input, select, textarea, label")) return;
    if (window.getSelection && String(window.getSelection()).length > 0) return;
    window.location.href = row.getAttribute("data-href");
  });

  // Copy buttons: data-copy="#id" copies that element's text.
  document.addEventListener("click", function (e) {
    var btn = e.target.closest && e.target.closest("[data-copy]");
    if (!btn) return;
    var src = document.querySelector(btn.getAttribute("data-copy"));
    if (!src) return;
    var text = src.textContent;
    var done = function () {
      var label = btn.textContent;
      btn.textContent = "Copied";
      btn.classList.add("is-copied");
      setTimeout(function () { btn.textContent = label; btn.classList.remove("is-copied"); }, 1500);
    };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(done, function () { selectText(src); });
    } else {
      selectText(src);
    }
  });

  function selectText(el) {
    var range = document.createRange();
    range.selectNodeContents(el);
    var sel = window.getSelection();
    sel.removeAllRanges();
    sel.addRange(range);
  }

  // Forms with data-confirm ask first.
  document.addEventListener("submit", function (e) {
    var msg = e.target.getAttribute && e.target.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) e.preventDefault();
  });

  // Keyboard: "/" focuses search; j/k move through rows; Enter or o opens the current row.
  var current = -1;
  function rows() {
    var table = document.querySelector("table[data-rows]");
    return table ? Array.prototype.slice.call(table.querySelectorAll("tbody tr[data-href]")) : [];
  }
  function mark(list, i) {
    list.forEach(function (r) { r.classList.remove("is-current"); });
    if (i >= 0 && i < list.length) {
      list[i].classList.add("is-current");
      list[i].scrollIntoView({ block: "nearest" });
      var a = list[i].querySelector("a");
      if (a) a.focus({ preventScroll: true });
    }
  }
  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (typing(document.activeElement)) {
      if (e.key === "Escape") document.activeElement.blur();
      return;
    }
    if (e.key === "/") {
      var search = document.querySelector("[data-hotkey='/']");
      if (search) { e.preventDefault(); search.focus(); search.select(); }
      return;
    }
    var list = rows();
    if (!list.length) return;
    if (e.key === "j") { current = Math.min(current + 1, list.length - 1); mark(list, current); e.preventDefault(); }
    else if (e.key === "k") { current = Math.max(current - 1, 0); mark(list, current); e.preventDefault(); }
    else if ((e.key === "o" || e.key === "Enter") && current >= 0 && document.activeElement === document.body) {
      window.location.href = list[current].getAttribute("data-href");
    }
  });
})();
