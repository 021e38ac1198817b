// The live queue (docs/web.md#dashboard): when an event of the viewer's subtree arrives on
// /dashboard/events, the queue (#queue) is fetched again and swapped in, and #live says so. Without
// JavaScript the queue is the same page, reloaded by hand.
(function () {
  'use strict';
  if (!window.EventSource || !document.getElementById('queue')) return;
  var pending = null;
  function refresh() {
    pending = null;
    fetch(window.location.href, { credentials: 'same-origin' })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, 'text/html').getElementById('queue');
        var current = document.getElementById('queue');
        if (fresh && current) {
          current.replaceWith(fresh);
          var live = document.getElementById('live');
          if (live) live.textContent = live.getAttribute('data-updated') + ' ' + new Date().toLocaleTimeString();
        }
      })
      .catch(function () {});
  }
  var source = new EventSource('/dashboard/events');
  source.addEventListener('case', function () {
    if (!pending) pending = setTimeout(refresh, 300);
  });
})();
