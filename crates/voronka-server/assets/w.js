/* Voronka capture widget: renders the form, quiz, callback button or popup configured for
   data-form="KEY" inside a shadow root, submits JSON to /f/KEY and keeps submissions made
   offline until they can be sent (each with its own idempotency key, so none is doubled).
   Data is only ever put into the page with textContent and attributes, never as markup. */
(function () {
  "use strict";
  var t0 = performance.now();
  var d = document, w = window;
  var me = d.currentScript;
  if (!me) {
    var all = d.querySelectorAll("script[data-form]");
    me = all[all.length - 1];
  }
  if (!me || me.getAttribute("data-voronka-done")) return;
  me.setAttribute("data-voronka-done", "1");
  var key = me.getAttribute("data-form");
  var base = new URL(me.src, location.href).origin;
  var F = base + "/f/" + encodeURIComponent(key);
  var QK = "voronka:q:" + key;

  function store(k, v) {
    try {
      if (v === undefined) return localStorage.getItem(k);
      if (v === null) localStorage.removeItem(k);
      else localStorage.setItem(k, v);
    } catch (e) { return null; }
  }
  function rid() {
    if (w.crypto && crypto.randomUUID) return crypto.randomUUID();
    return Date.now().toString(36) + Math.random().toString(36).slice(2);
  }
  function el(tag, attrs, text) {
    var e = d.createElement(tag);
    for (var a in attrs || {}) if (attrs[a] !== undefined && attrs[a] !== null && attrs[a] !== false) e.setAttribute(a, attrs[a] === true ? "" : attrs[a]);
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }
  function add(p) { for (var i = 1; i < arguments.length; i++) if (arguments[i]) p.appendChild(arguments[i]); return p; }

  var visitor = store("voronka:visitor");
  if (!visitor) { visitor = rid(); store("voronka:visitor", visitor); }

  // ---- the offline queue ------------------------------------------------------------------
  function queue() { try { return JSON.parse(store(QK) || "[]"); } catch (e) { return []; } }
  function saveQueue(q) { store(QK, q.length ? JSON.stringify(q) : null); }
  var onResult = null, flushing = false, timer = null;
  function send(item) {
    return fetch(F, {
      method: "POST", mode: "cors",
      headers: { "content-type": "application/json", "idempotency-key": item.id },
      body: JSON.stringify(item.body)
    }).then(function (r) {
      if (r.status >= 500 || r.status === 429) throw new Error("retry");
      return r.json().then(function (j) { return { ok: r.ok, status: r.status, body: j }; });
    });
  }
  function flush() {
    if (flushing) return;
    var q = queue();
    if (!q.length) return;
    flushing = true;
    var item = q[0];
    send(item).then(function (res) {
      saveQueue(queue().filter(function (x) { return x.id !== item.id; }));
      flushing = false;
      if (onResult) onResult(res, item);
      flush();
    }, function () {
      flushing = false;
      retryLater();
    });
  }
  function retryLater() {
    if (timer) return;
    timer = setTimeout(function () { timer = null; flush(); }, 4000);
  }
  w.addEventListener("online", flush);

  function beacon(kind, variant) {
    var body = JSON.stringify({ kind: kind, variant: variant || "", visitor_id: visitor });
    try {
      if (navigator.sendBeacon && navigator.sendBeacon(F + "/event", body)) return;
    } catch (e) { /* fall through */ }
    fetch(F + "/event", { method: "POST", mode: "no-cors", keepalive: true, body: body }).catch(function () {});
  }

  fetch(F + "/config").then(function (r) {
    if (!r.ok) throw new Error("config " + r.status);
    return r.json();
  }).then(start, function (e) {
    if (w.console) console.warn("voronka: form " + key + " is unavailable", e);
    flush();
  });

  var CSS =
    "[hidden]{display:none!important}:host{all:initial;font:15px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1d2433}" +
    "*{box-sizing:border-box;font:inherit}" +
    ".vk{background:#fff;border:1px solid #dfe3ec;border-radius:12px;padding:20px;max-width:460px;width:100%}" +
    "h2{font-size:1.25em;font-weight:700;margin:0 0 6px}p{margin:0 0 12px}.offer{font-weight:600;color:#0b6b3a}" +
    "label.f{display:block;margin:0 0 12px}label.f>span{display:block;font-weight:600;margin-bottom:4px}" +
    "input,select,textarea{width:100%;padding:10px 12px;border:1px solid #b9c0cf;border-radius:8px;background:#fff;color:inherit;min-height:44px}" +
    "input[type=checkbox],input[type=radio]{width:auto;min-height:0;margin:0 8px 0 0}" +
    "input:focus,select:focus,textarea:focus,button:focus,a:focus{outline:3px solid #7aa7ff;outline-offset:1px}" +
    "[aria-invalid=true]{border-color:#c0262d}.err{display:block;color:#c0262d;font-size:.9em;margin-top:4px}" +
    ".row{display:flex;gap:8px}.row select{width:auto;flex:0 0 auto}" +
    ".opt{display:flex;align-items:center;padding:10px 12px;border:1px solid #dfe3ec;border-radius:8px;margin:0 0 8px;cursor:pointer}" +
    ".opt img{max-width:64px;max-height:64px;margin-right:10px;border-radius:6px}" +
    "fieldset{border:0;padding:0;margin:0 0 12px}legend{font-weight:700;margin-bottom:8px;padding:0}" +
    "button{cursor:pointer;border:0;border-radius:8px;padding:11px 18px;font-weight:600;min-height:44px;background:#2453d6;color:#fff}" +
    "button.sec{background:#eef1f7;color:#1d2433}.btns{display:flex;gap:8px;justify-content:space-between}" +
    ".bar{height:6px;background:#eef1f7;border-radius:3px;margin:0 0 14px;overflow:hidden}.bar>i{display:block;height:100%;background:#2453d6;transition:width .2s}" +
    ".hp{position:absolute;left:-10000px;width:1px;height:1px;overflow:hidden}" +
    ".status{margin-top:10px}.status:empty{display:none}.note{background:#fff6dd;border-radius:8px;padding:8px 10px}" +
    ".sug{background:none;color:#2453d6;padding:0;min-height:0;text-decoration:underline;font-weight:600}" +
    ".ov{position:fixed;inset:0;background:rgba(16,22,36,.55);display:flex;align-items:center;justify-content:center;padding:16px;z-index:2147483646}" +
    ".ov .vk{position:relative;max-height:100%;overflow:auto}.x{position:absolute;top:8px;right:8px;background:none;color:#1d2433;font-size:22px;padding:4px 10px}" +
    ".fab{position:fixed;right:20px;bottom:20px;z-index:2147483645;border-radius:28px;box-shadow:0 6px 20px rgba(0,0,0,.25)}" +
    "@media (max-width:520px){.vk{padding:16px;border-radius:10px}.fab{right:12px;bottom:12px}}";

  function start(c) {
    var tc = performance.now() - t0;
    var T = c.texts;
    // One variant per visitor, kept so that a returning visitor sees the same one.
    var variant = null;
    if (c.variants && c.variants.length) {
      var vk = "voronka:v:" + key, saved = store(vk);
      for (var i = 0; i < c.variants.length; i++) if (c.variants[i].key === saved) variant = c.variants[i];
      if (!variant) {
        var sum = 0, r;
        c.variants.forEach(function (v) { sum += v.weight; });
        r = Math.random() * sum;
        for (i = 0; i < c.variants.length; i++) { r -= c.variants[i].weight; if (r < 0 || i === c.variants.length - 1) { variant = c.variants[i]; break; } }
        store(vk, variant.key);
      }
    }
    var V = variant || {};
    var hidden = V.hide_fields || [];
    var fields = c.fields.filter(function (f) { return hidden.indexOf(f.name) < 0; });

    var host = el("div", { "data-voronka": key, "data-kind": c.kind });
    var root = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;
    // A constructed sheet is not inline style, so the host page's CSP does not block it.
    try {
      var sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS);
      root.adoptedStyleSheets = [sheet];
    } catch (e) { add(root, el("style", {}, CSS)); }
    var mode = c.kind === "callback" ? "callback" : c.popup.trigger !== "none" ? "popup" : "inline";
    var tgt = me.getAttribute("data-target") && d.querySelector(me.getAttribute("data-target"));
    if (mode === "inline") {
      if (tgt) tgt.appendChild(host);
      else me.parentNode.insertBefore(host, me.nextSibling);
    } else (d.body || d.documentElement).appendChild(host);

    var shownAt = 0, viewSent = false;
    function view() {
      shownAt = performance.now();
      if (!viewSent) { viewSent = true; beacon("view", V.key); }
    }

    // ---- building the form ---------------------------------------------------------------
    var box = el("div", { "class": "vk", role: mode === "inline" ? "region" : "dialog", "aria-label": V.title || c.title || T.submit });
    var form = el("form", { novalidate: true });
    var status = el("div", { "class": "status", role: "status", "aria-live": "polite" });
    var inputs = {}, errs = {};
    if (V.title || c.title) add(box, el("h2", {}, V.title || c.title));
    if (V.text || c.text) add(box, el("p", {}, V.text || c.text));
    if (V.offer || c.offer) add(box, el("p", { "class": "offer" }, V.offer || c.offer));
    add(box, form, status);

    function errorSpan(name) {
      var s = el("span", { "class": "err", id: "e-" + name, "aria-live": "assertive" });
      errs[name] = s;
      return s;
    }
    function maskPhone(v, prefix) {
      var digits = v.replace(/\D/g, "");
      if (prefix === "+7") {
        if (digits.length > 10) digits = digits.replace(/^[78]/, "");
        digits = digits.slice(0, 10);
        var out = "", parts = [[0, 3, " (", ") "], [3, 6, "", "-"], [6, 8, "", "-"], [8, 10, "", ""]];
        parts.forEach(function (p, i) {
          var seg = digits.slice(p[0], p[1]);
          if (!seg) return;
          out += (i === 0 ? p[2] : "") + seg + (digits.length > p[1] && i < 3 ? p[3] : "");
        });
        return out.trim();
      }
      return digits.slice(0, 14).replace(/(\d{3})(?=\d)/g, "$1 ");
    }
    function field(f) {
      var id = "f-" + f.name, label = f.label + (f.required ? " *" : "");
      var wrap, input;
      if (f.kind === "checkbox") {
        wrap = el("label", { "class": "f opt" });
        input = el("input", { type: "checkbox", id: id, name: f.name, "aria-describedby": "e-" + f.name, required: f.required });
        add(wrap, input, el("span", {}, label));
        add(wrap, errorSpan(f.name));
        inputs[f.name] = { f: f, get: function () { return input.checked ? "yes" : ""; }, focus: input };
        return wrap;
      }
      if (f.kind === "multi_select") {
        wrap = el("fieldset", { "aria-describedby": "e-" + f.name });
        add(wrap, el("legend", {}, label));
        var boxes = f.options.map(function (o) {
          var cb = el("input", { type: "checkbox", name: f.name, value: o });
          add(wrap, add(el("label", { "class": "opt" }), cb, el("span", {}, o)));
          return cb;
        });
        add(wrap, errorSpan(f.name));
        inputs[f.name] = { f: f, get: function () { return boxes.filter(function (b) { return b.checked; }).map(function (b) { return b.value; }); }, focus: boxes[0] };
        return wrap;
      }
      wrap = el("label", { "class": "f" });
      add(wrap, el("span", {}, label));
      var attrs = { id: id, name: f.name, "aria-describedby": "e-" + f.name, required: f.required, "aria-required": f.required ? "true" : null };
      if (f.kind === "message") input = el("textarea", attrs);
      else if (f.kind === "select") {
        input = el("select", attrs);
        add(input, el("option", { value: "" }, T.choose));
        f.options.forEach(function (o) { add(input, el("option", { value: o }, o)); });
      } else {
        var types = { phone: "tel", email: "email", number: "number", date: "date" };
        var auto = { name: "name", phone: "tel-national", email: "email", company: "organization", position: "organization-title" };
        attrs.type = types[f.kind] || "text";
        attrs.autocomplete = auto[f.kind];
        if (f.kind === "phone") attrs.inputmode = "tel";
        if (f.kind === "email") attrs.inputmode = "email";
        input = el("input", attrs);
      }
      var get = function () { return input.value.trim(); };
      if (f.kind === "phone") {
        var sel = el("select", { "aria-label": T.country, name: "phone_country" });
        c.phone_countries.forEach(function (p) { add(sel, el("option", { value: p[1], selected: p[0] === c.default_region }, p[0] + " " + p[1])); });
        input.addEventListener("input", function () {
          if (input.value.charAt(0) === "+") return;
          input.value = maskPhone(input.value, sel.value);
        });
        get = function () {
          var v = input.value.trim();
          if (!v) return "";
          return v.charAt(0) === "+" ? v : sel.value + " " + v;
        };
        add(wrap, add(el("div", { "class": "row" }), sel, input));
      } else add(wrap, input);
      if (f.kind === "email") input.addEventListener("blur", function () { checkEmail(input); });
      add(wrap, errorSpan(f.name));
      inputs[f.name] = { f: f, get: get, focus: input };
      return wrap;
    }

    function showError(name, msg, suggestion) {
      var s = errs[name];
      if (!s) { status.textContent = msg; return; }
      s.textContent = msg;
      var inp = inputs[name] && inputs[name].focus;
      if (inp) inp.setAttribute("aria-invalid", msg ? "true" : "false");
      if (suggestion) {
        s.textContent = T.did_you_mean + " ";
        var b = el("button", { type: "button", "class": "sug" }, suggestion);
        b.addEventListener("click", function () { inp.value = suggestion; showError(name, ""); inp.focus(); });
        add(s, b, d.createTextNode("?"));
      }
    }
    function suggestionOf(reason) {
      var m = /did you mean ([^\s?]+)\?/.exec(reason.message || "");
      return m ? m[1] : null;
    }
    function checkEmail(input) {
      var v = input.value.trim();
      if (!v) return;
      fetch(F + "/check", { method: "POST", mode: "cors", headers: { "content-type": "application/json" }, body: JSON.stringify({ email: v }) })
        .then(function (r) { return r.json(); })
        .then(function (j) {
          var rs = (j.reasons || []).filter(function (x) { return x.field === "email"; });
          showError("email", "");
          var pick = rs.filter(function (x) { return suggestionOf(x); })[0] || rs[0];
          if (pick) showError("email", pick.message, suggestionOf(pick));
        }, function () {});
    }

    // ---- quiz steps ------------------------------------------------------------------------
    var steps = c.steps || [], answers = {}, path = [], cur = steps.length ? 0 : -1;
    var bar = el("div", { "class": "bar", role: "progressbar", "aria-valuemin": "0", "aria-valuemax": "100" }), barFill = el("i");
    add(bar, barFill);
    var stepBox = el("div"), contactBox = el("div");
    if (steps.length) add(form, bar, stepBox);
    add(form, contactBox);

    fields.forEach(function (f) { add(contactBox, field(f)); });
    if (c.consent) {
      var cl = el("label", { "class": "f opt" });
      var cc = el("input", { type: "checkbox", name: "consent", "aria-describedby": "e-consent", required: c.consent.required });
      var ct = el("span", {}, c.consent.text + " ");
      if (c.consent.policy_url) add(ct, el("a", { href: c.consent.policy_url, target: "_blank", rel: "noopener" }, T.privacy_policy));
      add(cl, cc, ct, errorSpan("consent"));
      add(contactBox, cl);
      inputs.consent = { f: { name: "consent", required: c.consent.required, kind: "checkbox" }, get: function () { return cc.checked ? "yes" : ""; }, focus: cc };
    }
    var hp = el("input", { name: c.honeypot, tabindex: "-1", autocomplete: "off" });
    add(contactBox, add(el("div", { "class": "hp", "aria-hidden": "true" }), hp));
    var submit = el("button", { type: "submit" }, V.submit_label || c.submit_label || T.submit);
    var btns = el("div", { "class": "btns" });
    var back = el("button", { type: "button", "class": "sec" }, T.back);
    back.addEventListener("click", function () { if (path.length) { cur = path.pop(); renderStep(); } });
    add(contactBox, add(btns, steps.length ? back : null, submit));

    function nextOf(i) {
      var s = steps[i], chosen = answers[s.id] || [], target = null;
      s.options.forEach(function (o) { if (!target && o.next && chosen.indexOf(o.id) >= 0) target = o.next; });
      target = target || s.next;
      if (!target) return i + 1 < steps.length ? i + 1 : -1;
      if (target === "contact") return -1;
      for (var j = i + 1; j < steps.length; j++) if (steps[j].id === target) return j;
      return i + 1 < steps.length ? i + 1 : -1;
    }
    function progress() {
      var done = path.length + (cur < 0 ? 1 : 0), total = Math.max(done + 1, steps.length + 1);
      var pct = Math.round(100 * done / total);
      barFill.style.width = pct + "%";
      bar.setAttribute("aria-valuenow", String(pct));
      bar.setAttribute("aria-valuetext", T.step + " " + (done + 1) + " " + T.of + " " + total);
    }
    function renderStep() {
      stepBox.textContent = "";
      contactBox.hidden = cur >= 0;
      progress();
      if (cur < 0) {
        if (steps.length) add(stepBox, el("p", { "class": "step-title" }, T.contact_step));
        var first = contactBox.querySelector("input,select,textarea");
        if (first && path.length) first.focus();
        return;
      }
      var s = steps[cur], fs = el("fieldset", { "data-step": s.id }), chosen = answers[s.id] || [];
      var lg = el("legend", { tabindex: "-1" }, s.question);
      add(fs, lg);
      s.options.forEach(function (o) {
        var inp = el("input", { type: s.multiple ? "checkbox" : "radio", name: "quiz." + s.id, value: o.id, checked: chosen.indexOf(o.id) >= 0 });
        var lab = el("label", { "class": "opt", "data-option": o.id });
        if (o.image) add(lab, el("img", { src: o.image, alt: "" }));
        add(lab, inp, el("span", {}, o.label));
        add(fs, lab);
        inp.addEventListener("change", function () {
          var picked = [].slice.call(fs.querySelectorAll("input:checked")).map(function (x) { return x.value; });
          answers[s.id] = picked;
          err.textContent = "";
          if (!s.multiple && picked.length) go();
        });
      });
      var err = el("span", { "class": "err", "aria-live": "assertive" });
      var nb = el("button", { type: "button", "data-next": "1" }, T.next);
      nb.addEventListener("click", go);
      function go() {
        if (!(answers[s.id] || []).length) { err.textContent = T.required; return; }
        path.push(cur);
        cur = nextOf(cur);
        renderStep();
        var l = stepBox.querySelector("legend");
        if (l) l.focus();
      }
      add(stepBox, fs, err, add(el("div", { "class": "btns" }), path.length ? back.cloneNode(true) : el("span"), nb));
      var bb = stepBox.querySelector("button.sec");
      if (bb) bb.addEventListener("click", function () { cur = path.pop(); renderStep(); });
    }
    if (steps.length) renderStep();

    // ---- submitting ----------------------------------------------------------------------
    var params = new URLSearchParams(location.search);
    function payload() {
      var b = {};
      Object.keys(inputs).forEach(function (n) { var v = inputs[n].get(); if (v && v.length) b[n] = v; });
      if (hp.value) b[c.honeypot] = hp.value;
      path.concat(cur >= 0 ? [cur] : []).forEach(function (i) { var s = steps[i]; if (answers[s.id]) b["quiz." + s.id] = answers[s.id]; });
      ["utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content"].forEach(function (u) { if (params.get(u)) b[u] = params.get(u); });
      if (d.referrer) b.referrer = d.referrer;
      b.page = location.href;
      b.visitor_id = visitor;
      if (V.key) b._variant = V.key;
      b._fill_ms = String(Math.round(performance.now() - shownAt));
      return b;
    }
    function done(res) {
      var j = res.body || {};
      var fieldReasons = (j.reasons || []).filter(function (r) { return r.field && inputs[r.field]; });
      var disq = (j.reasons || []).some(function (r) { return r.code === "disqualified"; });
      submit.disabled = false;
      if (j.result === "lead" || disq) {
        if (c.redirect_url && !disq) { location.href = c.redirect_url; return; }
        box.textContent = "";
        add(box, el("h2", { tabindex: "-1" }, disq ? T.not_a_fit : c.thank_you || T.thank_you));
        if (c.lead_magnet && !disq) {
          var a = el("a", { href: c.lead_magnet.url + (V.key ? "?v=" + encodeURIComponent(V.key) : ""), "class": "dl", target: "_blank", rel: "noopener" }, T.download + ": " + c.lead_magnet.title);
          add(box, add(el("p"), a));
        }
        box.setAttribute("data-result", disq ? "not_a_fit" : "lead");
        var h = box.querySelector("h2");
        if (h && mode !== "inline") h.focus();
        return;
      }
      status.textContent = "";
      box.setAttribute("data-result", j.result || "error");
      if (fieldReasons.length) {
        fieldReasons.forEach(function (r) { showError(r.field, r.code === "required" ? T.required : r.message, suggestionOf(r)); });
        inputs[fieldReasons[0].field].focus.focus();
      } else {
        status.textContent = T.failed + " " + (j.reasons || []).map(function (r) { return r.message; }).join("; ");
      }
    }
    var pendingId = null;
    onResult = function (res, item) {
      if (item.id === pendingId || !pendingId) done(res);
    };
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var bad = null;
      Object.keys(errs).forEach(function (n) { showError(n, ""); });
      Object.keys(inputs).forEach(function (n) {
        var x = inputs[n], v = x.get();
        if (x.f.required && !(v && v.length)) { showError(n, T.required); bad = bad || x.focus; }
      });
      if (bad) { bad.focus(); return; }
      var item = { id: rid(), body: payload() };
      pendingId = item.id;
      var q = queue(); q.push(item); saveQueue(q);
      submit.disabled = true;
      status.textContent = T.sending;
      box.setAttribute("data-result", "sending");
      send(item).then(function (res) {
        saveQueue(queue().filter(function (x) { return x.id !== item.id; }));
        done(res);
      }, function () {
        submit.disabled = false;
        status.textContent = "";
        add(status, el("p", { "class": "note" }, T.offline));
        box.setAttribute("data-result", "queued");
        retryLater();
      });
    });

    // ---- where it appears ------------------------------------------------------------------
    if (mode === "inline") {
      add(root, box);
      view();
    } else {
      var ov = el("div", { "class": "ov", hidden: true });
      var x = el("button", { type: "button", "class": "x", "aria-label": T.close }, "×");
      box.insertBefore(x, box.firstChild);
      box.setAttribute("aria-modal", "true");
      add(ov, box);
      add(root, ov);
      var opened = false;
      var open = function () {
        if (opened) return;
        opened = true;
        ov.hidden = false;
        view();
        var f = box.querySelector("input:not([tabindex='-1']),select,textarea,button:not(.x)");
        if (f) f.focus();
      };
      var close = function () { ov.hidden = true; opened = mode === "popup"; if (fab) fab.focus(); };
      x.addEventListener("click", close);
      ov.addEventListener("click", function (e) { if (e.target === ov) close(); });
      root.addEventListener("keydown", function (e) { if (e.key === "Escape" && !ov.hidden) close(); });
      var fab = null;
      if (mode === "callback") {
        fab = el("button", { type: "button", "class": "fab", "aria-haspopup": "dialog" }, V.submit_label || c.submit_label || T.callback_button);
        if (!c.title && !V.title) box.insertBefore(el("h2", {}, T.callback_title), form);
        fab.addEventListener("click", function () { opened = false; open(); });
        add(root, fab);
        view();
      } else {
        // Once per visit: a popup that keeps coming back drives people away.
        var sk = "voronka:p:" + key;
        var seen = function () { try { return sessionStorage.getItem(sk); } catch (e) { return null; } };
        var mark = function () { try { sessionStorage.setItem(sk, "1"); } catch (e) { /* private mode */ } };
        var show = function () { if (!seen()) { mark(); open(); } };
        var trig = c.popup.trigger;
        if (trig === "exit" || trig === "exit_or_timer") {
          d.addEventListener("mouseout", function (e) { if (!e.relatedTarget && e.clientY <= 10) show(); });
        }
        if (trig === "timer" || trig === "exit_or_timer") setTimeout(show, 1000 * (c.popup.delay_seconds || 0));
      }
    }
    var ms = performance.now() - t0;
    host.setAttribute("data-render-ms", ms.toFixed(1));
    host.setAttribute("data-config-ms", tc.toFixed(1));
    flush();
  }
})();
