/* Voronka tracker: page views and events of this site's visitors, sent to
   /api/v1/events?site=SITE.
   A first-party visitor id in localStorage (the same one the capture widget sends with a form,
   so a visitor who fills a form is joined to their past events); no cookies, no third-party code.
   Browsers that send Do-Not-Track or Global Privacy Control are not tracked unless the embed
   code says data-dnt="ignore".
   API: voronka.track(name, properties), voronka.page(), voronka.flush(); calls made before the script loaded are
   read from window.voronkaq = [[name, properties], …].
   Markup: data-voronka-event="view_pricing" (+ data-voronka-*) on an element sends that event
   when the page loads; on a link or button, when it is clicked. Links to social networks send
   click_social and links to files send download by themselves.
   Every event carries an id of its own. A batch stays in localStorage ("voronka:events", at
   most 500 events, five tries each) until the server has answered for it; one that could not
   be sent (offline, a network error, a 429 or 5xx answer, a page closed first) is sent again
   when the browser is back online, 30 s later, or on the next page of the site. The server
   stores an id once, so an event sent twice is counted once. Each event is sent with its age, so
   one sent days later is still dated when it happened. */
(function () {
  "use strict";
  var d = document, w = window, n = navigator;
  var me = d.currentScript;
  if (!me) {
    var all = d.querySelectorAll("script[data-site]");
    me = all[all.length - 1];
  }
  if (!me || me.getAttribute("data-voronka-done")) return;
  me.setAttribute("data-voronka-done", "1");
  var site = me.getAttribute("data-site");
  var url = new URL(me.src, location.href).origin + "/api/v1/events?site=" + encodeURIComponent(site);
  var declined = n.doNotTrack === "1" || w.doNotTrack === "1" || n.globalPrivacyControl === true;
  var off = declined && me.getAttribute("data-dnt") !== "ignore";

  function store(k, v) {
    try {
      if (v === undefined) return localStorage.getItem(k);
      localStorage.setItem(k, v);
    } catch (e) { return null; }
  }
  function rid() {
    if (w.crypto && crypto.randomUUID) return crypto.randomUUID();
    return Date.now().toString(36) + Math.random().toString(36).slice(2);
  }
  var visitor = store("voronka:visitor");
  if (!visitor) { visitor = rid(); store("voronka:visitor", visitor); }

  // Events not yet sent (in memory), and batches sent or failed: kept in localStorage as
  // [{e: event, t: failed tries}] until the server has answered for them.
  var queue = [], timer = null, SAVED = "voronka:events", retry = null, resending = false;
  function saved() {
    try { return JSON.parse(store(SAVED) || "[]") || []; } catch (e) { return []; }
  }
  function save(list) {
    list = list.filter(function (k) { return k.t < 5; }).slice(-500);
    try {
      if (list.length) localStorage.setItem(SAVED, JSON.stringify(list));
      else localStorage.removeItem(SAVED);
    } catch (e) {}
  }
  // Adds a batch to the kept events; `failed`: it was tried and failed (one try more for each
  // of its events), else it is on its way and stays kept until answered.
  function keep(batch, failed) {
    var list = saved(), have = {};
    for (var i = 0; i < list.length; i++) have[list[i].e.id] = list[i];
    for (var j = 0; j < batch.length; j++) {
      var k = have[batch[j].id];
      if (!k) { k = { e: batch[j], t: 0 }; list.push(k); }
      if (failed) k.t++;
    }
    save(list);
    if (failed && !retry) retry = setTimeout(resend, 30000);
  }
  function settle(batch) {
    var done = {};
    for (var i = 0; i < batch.length; i++) done[batch[i].id] = true;
    save(saved().filter(function (k) { return !done[k.e.id]; }));
  }
  // The body of a batch: each event with its age (how long ago it happened, by this browser's
  // clock, now), by which the server dates it; the browser's clock itself may be wrong.
  function bodyOf(batch) {
    var now = Date.now();
    return JSON.stringify({ events: batch.map(function (e) {
      var o = {};
      for (var k in e) if (k !== "at") o[k] = e[k];
      o.age = Math.max(0, now - e.at);
      return o;
    }) });
  }
  // Ids of the events on their way from this page.
  var flying = {};
  // Sends a batch, kept until the server answers for it: stored, or refused for itself (a 4xx
  // other than 429) is done with; anything else is kept to be sent again. A page closed before
  // the answer leaves it kept, and the next page sends it again (stored once by its id).
  function send(batch) {
    keep(batch, false);
    if (n.onLine === false || !w.fetch) { keep(batch, true); return Promise.resolve(false); }
    var body = bodyOf(batch);
    for (var i = 0; i < batch.length; i++) flying[batch[i].id] = true;
    var landed = function (ok) {
      for (var j = 0; j < batch.length; j++) delete flying[batch[j].id];
      if (ok) settle(batch); else keep(batch, true);
      return ok;
    };
    // keepalive lets a request outlive its page, for bodies up to 64 KB.
    return fetch(url, { method: "POST", body: body, keepalive: body.length < 60000, mode: "cors",
      credentials: "omit", headers: { "content-type": "text/plain" } })
      .then(function (r) { return landed(r.status !== 429 && r.status < 500); },
        function () { return landed(false); });
  }
  function resend() {
    retry = null;
    if (resending || n.onLine === false) return;
    var batch = saved().filter(function (k) { return !flying[k.e.id]; }).slice(0, 100)
      .map(function (k) { return k.e; });
    if (!batch.length) return;
    resending = true;
    send(batch).then(function (ok) {
      resending = false;
      if (ok) resend();
    });
  }
  // leaving: the page is being hidden or closed, when only a beacon is sure to go out (its
  // answer cannot be read; a beacon the browser refuses is kept for the next page).
  function flush(leaving) {
    timer = null;
    while (queue.length) {
      var batch = queue.splice(0, 100);
      if (n.onLine === false) { keep(batch, true); continue; }
      if (leaving === true && n.sendBeacon) {
        var sent = false;
        try { sent = n.sendBeacon(url, new Blob([bodyOf(batch)], { type: "text/plain" })); }
        catch (e) { sent = false; }
        if (!sent) keep(batch, true);
        continue;
      }
      send(batch);
    }
  }
  function leave() { flush(true); }
  function track(name, props) {
    if (off || !name) return;
    var p = {};
    for (var k in props || {}) if (Object.prototype.hasOwnProperty.call(props, k)) p[k] = props[k];
    queue.push({ id: rid(), name: String(name), visitor_id: visitor, url: location.href, at: Date.now(), properties: p });
    if (!timer) timer = setTimeout(flush, 1000);
  }
  function page() {
    track("page_view", { title: d.title, referrer: d.referrer || undefined });
  }
  function dataProps(el) {
    var p = {};
    for (var i = 0; i < el.attributes.length; i++) {
      var a = el.attributes[i];
      if (a.name.indexOf("data-voronka-") === 0 && a.name !== "data-voronka-event") p[a.name.slice(13)] = a.value;
    }
    return p;
  }
  var SOCIAL = /(^|\.)(vk\.com|vk\.ru|t\.me|telegram\.me|ok\.ru|facebook\.com|instagram\.com|twitter\.com|x\.com|youtube\.com|linkedin\.com|dzen\.ru|wa\.me|whatsapp\.com|tiktok\.com)$/i;
  var FILE = /\.(pdf|zip|rar|7z|docx?|xlsx?|pptx?|csv|odt|ods)$/i;

  d.addEventListener("click", function (ev) {
    var el = ev.target && ev.target.closest ? ev.target.closest("a, button, [data-voronka-event]") : null;
    if (!el) return;
    var name = el.getAttribute("data-voronka-event");
    if (name) { track(name, dataProps(el)); return; }
    if (!el.href) return;
    var u;
    try { u = new URL(el.href, location.href); } catch (e) { return; }
    if (u.host !== location.host && SOCIAL.test(u.hostname)) track("click_social", { network: u.hostname });
    else if (FILE.test(u.pathname)) track("download", { file: u.pathname.split("/").pop() });
  }, true);
  d.addEventListener("visibilitychange", function () { if (d.visibilityState === "hidden") leave(); });
  w.addEventListener("pagehide", leave);
  w.addEventListener("online", resend);

  w.voronka = w.voronka || {};
  w.voronka.track = track;
  w.voronka.page = page;
  // Sends what is queued now (a single-page app about to navigate, a test).
  w.voronka.flush = function () { flush(); };
  w.voronka.visitor = visitor;
  var early = w.voronkaq || [];
  w.voronkaq = { push: function (c) { track(c[0], c[1]); } };

  if (!off) resend();
  page();
  for (var i = 0; i < early.length; i++) track(early[i][0], early[i][1]);
  function onLoad() {
    var marked = d.querySelectorAll("[data-voronka-event]:not(a):not(button)");
    for (var j = 0; j < marked.length; j++) track(marked[j].getAttribute("data-voronka-event"), dataProps(marked[j]));
  }
  if (d.readyState === "loading") d.addEventListener("DOMContentLoaded", onLoad); else onLoad();
})();
