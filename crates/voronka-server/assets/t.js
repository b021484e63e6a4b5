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
   click_social and links to files send download by themselves. */
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

  var queue = [], timer = null;
  function flush() {
    timer = null;
    if (!queue.length) return;
    var body = JSON.stringify({ events: queue.splice(0, 100) });
    var sent = false;
    try {
      if (n.sendBeacon) sent = n.sendBeacon(url, new Blob([body], { type: "text/plain" }));
    } catch (e) { sent = false; }
    if (!sent && w.fetch) {
      fetch(url, { method: "POST", body: body, keepalive: true, mode: "cors", credentials: "omit",
        headers: { "content-type": "text/plain" } }).catch(function () {});
    }
    if (queue.length) flush();
  }
  function track(name, props) {
    if (off || !name) return;
    var p = {};
    for (var k in props || {}) if (Object.prototype.hasOwnProperty.call(props, k)) p[k] = props[k];
    queue.push({ name: String(name), visitor_id: visitor, url: location.href, at: Date.now(), properties: p });
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
  d.addEventListener("visibilitychange", function () { if (d.visibilityState === "hidden") flush(); });
  w.addEventListener("pagehide", flush);

  w.voronka = w.voronka || {};
  w.voronka.track = track;
  w.voronka.page = page;
  // Sends what is queued now (a single-page app about to navigate, a test).
  w.voronka.flush = flush;
  w.voronka.visitor = visitor;
  var early = w.voronkaq || [];
  w.voronkaq = { push: function (c) { track(c[0], c[1]); } };

  page();
  for (var i = 0; i < early.length; i++) track(early[i][0], early[i][1]);
  function onLoad() {
    var marked = d.querySelectorAll("[data-voronka-event]:not(a):not(button)");
    for (var j = 0; j < marked.length; j++) track(marked[j].getAttribute("data-voronka-event"), dataProps(marked[j]));
  }
  if (d.readyState === "loading") d.addEventListener("DOMContentLoaded", onLoad); else onLoad();
})();
