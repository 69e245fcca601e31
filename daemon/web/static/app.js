// tact web UI: live length counts while a post is edited. The page works without this
// script; it only saves a round trip. The counting rules repeat daemon/web/count.go
// (keep the two in step): graphemes, code points, UTF-8 bytes, or Mastodon's (URLs count
// 23, @user@domain counts as @user). X's weighted counting (twitter-text: URLs found by
// their top-level domain, emoji, CJK) is not repeated here: the server counts it (GET
// /count), a moment after typing stops.
(function () {
  "use strict";
  var urlRe = /https?:\/\/[^\s<>"]+/g;
  var mentionRe = /(@[A-Za-z0-9_]+)@[A-Za-z0-9.\-]+[A-Za-z0-9]/g;
  var segmenter = (typeof Intl !== "undefined" && Intl.Segmenter) ? new Intl.Segmenter(undefined, { granularity: "grapheme" }) : null;

  function codePoints(s) { return Array.from(s).length; }

  function length(text, counting) {
    switch (counting) {
      case "graphemes":
        if (!segmenter) { return codePoints(text); }
        var n = 0;
        for (var _ of segmenter.segment(text)) { n++; }
        return n;
      case "bytes":
        return new TextEncoder().encode(text).length;
      case "mastodon":
        var rest = text.replace(mentionRe, "$1");
        var total = codePoints(rest);
        (rest.match(urlRe) || []).forEach(function (u) { total -= codePoints(u) - 23; });
        return total;
      case "x":
        return null; // counted by the server
      default:
        return codePoints(text);
    }
  }

  function show(el, n) {
    var max = parseInt(el.getAttribute("data-max"), 10) || 0;
    el.textContent = max ? n + " / " + max : String(n);
    if (el.parentElement) { el.parentElement.classList.toggle("over", max > 0 && n > max); }
  }

  // serverCount asks the daemon for counts the browser does not repeat; only the answer to
  // the latest text of each counter is shown.
  var pending = {};
  function serverCount(el, text, counting) {
    var key = el.getAttribute("data-len-for") + "/" + counting;
    clearTimeout(pending[key]);
    pending[key] = setTimeout(function () {
      var asked = text;
      fetch("/count?counting=" + encodeURIComponent(counting) + "&text=" + encodeURIComponent(text), { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (a) { if (a && el.getAttribute("data-asked") === asked) { show(el, a.length); } })
        .catch(function () {});
      el.setAttribute("data-asked", asked);
    }, 250);
  }

  function normalise(s) { return s.replace(/\r\n/g, "\n").trim(); }

  // After htmx swaps in a new page (a boosted link or form), move the keyboard focus to the
  // flash message if there is one, else to the main content, as a full page load would.
  document.addEventListener("htmx:afterSettle", function (ev) {
    if (!ev.detail || !ev.detail.boosted) { return; }
    var target = document.querySelector("main .flash") || document.getElementById("main");
    if (target) { target.focus({ preventScroll: true }); }
  });

  document.addEventListener("input", function (ev) {
    var ta = ev.target;
    if (!ta.matches || !ta.matches("textarea[data-count-source]")) { return; }
    var id = ta.getAttribute("data-count-source");
    var text = normalise(ta.value);
    document.querySelectorAll('[data-len-for="' + id + '"]').forEach(function (el) {
      var counting = el.getAttribute("data-counting");
      var n = length(text, counting);
      if (n === null) { serverCount(el, text, counting); return; }
      show(el, n);
    });
  });
})();
