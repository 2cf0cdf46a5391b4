// USM Portal: the viewer's time zone cookie, the app tile filter and the refresh
// of Pending connections. Every page works without this file.
"use strict";

(function () {
  var COOKIE = "viewer_tz";
  var REFRESH_MS = 15000;

  function readCookie(name) {
    var match = document.cookie.match(new RegExp("(?:^|; )" + name + "=([^;]*)"));
    return match ? match[1] : null;
  }

  // Store the browser's IANA time zone in a cookie, because the server renders times
  // in it. A GET page is then reloaded once to show them, but a POST result is not.
  function reportTimeZone() {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (!zone || readCookie(COOKIE) === zone) {
      return;
    }
    document.cookie = COOKIE + "=" + zone + "; path=/; max-age=31536000; SameSite=Lax";
    var stored = readCookie(COOKIE) === zone;
    if (stored && document.body.dataset.requestMethod === "GET") {
      window.location.reload();
    }
  }

  // Hide the tiles that do not contain every word typed in the search box.
  function filterTiles(input) {
    var list = document.querySelector(input.dataset.tileFilter);
    if (!list) {
      return;
    }
    var words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
    var tiles = list.querySelectorAll("[data-search]");
    var visible = 0;
    tiles.forEach(function (tile) {
      var text = tile.dataset.search;
      var match = words.every(function (word) { return text.indexOf(word) !== -1; });
      tile.hidden = !match;
      visible += match ? 1 : 0;
    });
    var empty = document.querySelector("[data-tile-empty]");
    if (empty) {
      empty.hidden = visible !== 0 || tiles.length === 0;
    }
    var count = document.querySelector("[data-tile-count]");
    if (count) {
      count.textContent = visible + " of " + tiles.length + " shown";
    }
  }

  // Fetch the connections table again every 15 s while a Health is Pending.
  function refreshWhilePending(container) {
    var timer = window.setInterval(function () {
      fetch(container.dataset.refreshUrl, { credentials: "same-origin" })
        .then(function (response) {
          if (!response.ok) {
            throw new Error("HTTP " + response.status);
          }
          return response.text();
        })
        .then(function (html) {
          var holder = document.createElement("div");
          holder.innerHTML = html.trim();
          var fresh = holder.querySelector("#connections");
          if (!fresh) {
            return;
          }
          container.replaceChildren.apply(container, Array.from(fresh.childNodes));
          container.dataset.pending = fresh.dataset.pending;
          if (fresh.dataset.pending !== "true") {
            window.clearInterval(timer);
          }
        })
        .catch(function () {
          window.clearInterval(timer);
        });
    }, REFRESH_MS);
  }

  document.addEventListener("DOMContentLoaded", function () {
    reportTimeZone();
    document.querySelectorAll("[data-tile-filter]").forEach(function (input) {
      input.addEventListener("input", function () { filterTiles(input); });
    });
    document.querySelectorAll("[data-refresh-url][data-pending='true']").forEach(refreshWhilePending);
  });
})();
