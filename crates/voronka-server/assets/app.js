// Voronka web UI: small keyboard and clipboard helpers. Pages work without it.
(function () {
  "use strict";

  // A refused form is answered with its page again at the form's address: show the page's own
  // address instead, so reloading or bookmarking it does not send the form again.
  var canonical = document.querySelector("link[rel=canonical]");
  if (canonical && window.history && history.replaceState) {
    var own = canonical.getAttribute("href");
    if (own && own !== location.pathname + location.search) history.replaceState(null, "", own);
  }

  // Dates and times typed into a form are the person's wall clock: say which zone it keeps.
  try {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (zone) document.querySelectorAll("input[data-tz]").forEach(function (el) { el.value = zone; });
  } catch (e) { /* an old browser: the person's profile zone is used */ }

  // Times marked data-local are shown in the browser's zone; the UTC text stays as the title.
  document.querySelectorAll("time[data-local][datetime]").forEach(function (el) {
    var at = new Date(el.getAttribute("datetime"));
    if (isNaN(at.getTime())) return;
    try {
      var shown = at.toLocaleString(document.documentElement.lang || undefined,
        { dateStyle: "medium", timeStyle: "short" });
      el.title = el.textContent;
      el.textContent = shown;
    } catch (e) { /* an old browser: the UTC text stays */ }
  });

  function typing(el) {
    if (!el) return false;
    var tag = el.tagName;
    return (tag === "INPUT" && el.type !== "checkbox") || tag === "TEXTAREA" || tag === "SELECT" || el.isContentEditable;
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
      // The words come with the button (data-copied), from the pages' strings.
      btn.textContent = btn.getAttribute("data-copied") || label;
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
    else if (e.key === "x" && current >= 0) {
      var box = list[current].querySelector("input[name=id]");
      if (box) {
        box.checked = !box.checked;
        box.dispatchEvent(new Event("change", { bubbles: true }));
        e.preventDefault();
      }
    }
    else if ((e.key === "o" || e.key === "Enter") && current >= 0 && document.activeElement === document.body) {
      window.location.href = list[current].getAttribute("data-href");
    }
  });

  // The inbox's selection: every lead of the page at once, and how many are chosen.
  var picked = document.querySelector("form[data-bulk]");
  if (picked) {
    var boxes = function () { return Array.prototype.slice.call(picked.querySelectorAll("input[name=id]")); };
    var all = picked.querySelector("[data-select-all]");
    var count = picked.querySelector("[data-selected]");
    var tally = function () {
      var list = boxes();
      var n = list.filter(function (b) { return b.checked; }).length;
      if (count) { count.textContent = String(n); count.parentNode.hidden = false; }
      if (all) { all.checked = n > 0 && n === list.length; all.indeterminate = n > 0 && n < list.length; }
    };
    // The fields of the chosen change only: a junk reason, a tag, or a refusal's comment and date
    // (data-for lists the changes a field belongs to).
    var action = picked.querySelector("select[name=action]");
    var fields = function () {
      var kind = action ? action.value.split(":")[0] : "";
      Array.prototype.forEach.call(picked.querySelectorAll("[data-for]"), function (el) {
        el.hidden = el.getAttribute("data-for").split(" ").indexOf(kind) < 0;
      });
    };
    picked.addEventListener("change", function (e) {
      if (e.target === all) boxes().forEach(function (b) { b.checked = all.checked; });
      if (e.target === action) fields();
      tally();
    });
    fields();
    tally();
  }

  // Kanban: drag a card to a column; the server applies the stage rules and answers JSON.
  var board = document.querySelector("[data-kanban]");
  if (board) {
    var dragged = null;
    var errorBox = document.querySelector(".kanban-error");
    board.addEventListener("dragstart", function (e) {
      var card = e.target.closest && e.target.closest(".kanban-card");
      if (!card) return;
      dragged = card;
      e.dataTransfer.setData("text/plain", card.getAttribute("data-lead"));
    });
    board.addEventListener("dragover", function (e) {
      var col = e.target.closest && e.target.closest(".kanban-col");
      if (!col || !dragged) return;
      e.preventDefault();
      col.classList.add("is-over");
    });
    board.addEventListener("dragleave", function (e) {
      var col = e.target.closest && e.target.closest(".kanban-col");
      if (col) col.classList.remove("is-over");
    });
    board.addEventListener("drop", function (e) {
      var col = e.target.closest && e.target.closest(".kanban-col");
      if (!col || !dragged) return;
      e.preventDefault();
      col.classList.remove("is-over");
      var card = dragged, from = card.parentNode, next = card.nextSibling;
      dragged = null;
      if (from === col) return;
      // The moved card leads its new column; a refused move puts it back where it was.
      var head = col.querySelector("h2");
      col.insertBefore(card, head ? head.nextSibling : col.firstChild);
      var putBack = function () { from.insertBefore(card, next); };
      var count = function (c, by) {
        var n = c.querySelector("[data-count]");
        if (n) n.textContent = String(Number(n.textContent) + by);
      };
      var body = new URLSearchParams();
      body.set("csrf", board.getAttribute("data-csrf"));
      body.set("stage", col.getAttribute("data-stage"));
      fetch("/kanban/leads/" + card.getAttribute("data-lead") + "/stage", {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: body.toString(),
        credentials: "same-origin"
      }).then(function (r) { return r.json(); }).then(function (v) {
        if (!v.ok) {
          putBack();
          if (errorBox) {
            errorBox.textContent = v.message;
            errorBox.hidden = false;
            errorBox.scrollIntoView({ block: "nearest" });
          }
        } else {
          count(from, -1);
          count(col, 1);
          if (errorBox) errorBox.hidden = true;
        }
      }, putBack);
    });
  }
})();
