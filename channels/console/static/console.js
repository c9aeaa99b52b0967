// Live refresh for the console: elements with data-live="<url>" are re-fetched every 3 s
// and replaced when the server's HTML changed. Same origin only; no external code.
(function () {
  "use strict";
  var INTERVAL_MS = 3000;
  var last = new Map();  // element -> HTML last fetched (replaced only when it changes)
  function refresh(el) {
    var url = el.getAttribute("data-live");
    fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (resp) {
        if (resp.redirected || resp.status === 401) { window.location.reload(); return null; }
        return resp.ok ? resp.text() : null;
      })
      .then(function (html) {
        if (typeof html === "string" && html !== last.get(el)) {
          el.innerHTML = html;
          last.set(el, html);
        }
      })
      .catch(function () { /* offline: try again next round */ });
  }
  document.addEventListener("DOMContentLoaded", function () {
    var live = document.querySelectorAll("[data-live]");
    if (!live.length) { return; }
    window.setInterval(function () {
      if (document.hidden) { return; }
      live.forEach(refresh);
    }, INTERVAL_MS);
  });
})();
