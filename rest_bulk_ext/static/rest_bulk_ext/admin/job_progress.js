/* Moves the progress bars of running bulk jobs in the admin without a page
   reload: polls each job's status endpoint (the admin's session
   authenticates the request) until the job ends. A bar with
   data-reload-when-done (the import pages) reloads its page once the job
   has ended, so the server renders the final counts and links. */
(function () {
  "use strict";
  var ACTIVE = { PENDING: true, PROGRESS: true };
  var INTERVAL = 1000;

  function show(el, state, percentage) {
    var bar = el.querySelector(".rbe-progress-bar");
    var label = el.querySelector(".rbe-progress-label");
    var value = Math.max(0, Math.min(100, Number(percentage) || 0));
    el.setAttribute("data-state", state);
    bar.style.width = value.toFixed(2) + "%";
    bar.className = "rbe-progress-bar rbe-state-" + state.toLowerCase();
    label.textContent = value.toFixed(0) + "%" + (ACTIVE[state] ? "" : " · " + state.toLowerCase());
  }

  function showText(el, progress, status) {
    var stateText = document.querySelector("[data-rbe-state-text]");
    if (stateText && status) { stateText.textContent = status; }
    var text = el.nextElementSibling;
    if (!progress || !text || !text.classList.contains("rbe-progress-text")) { return; }
    text.querySelector(".rbe-progress-current").textContent = progress.current;
    text.querySelector(".rbe-progress-message").textContent = progress.message || "";
  }

  function poll(el) {
    var url = el.getAttribute("data-status-url");
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (body) {
        if (!body) { return; }  // no session authentication for the API: keep the rendered state
        show(el, body.state, body.progress && body.progress.percentage);
        showText(el, body.progress, body.status);
        if (ACTIVE[body.state]) {
          window.setTimeout(function () { poll(el); }, INTERVAL);
        } else if (el.getAttribute("data-reload-when-done")) {
          window.setTimeout(function () { window.location.reload(); }, INTERVAL);
        }
      })
      .catch(function () { window.setTimeout(function () { poll(el); }, INTERVAL * 5); });
  }

  function start() {
    var bars = document.querySelectorAll(".rbe-progress[data-status-url]");
    Array.prototype.forEach.call(bars, function (el) {
      if (el.getAttribute("data-status-url") && ACTIVE[el.getAttribute("data-state")]) { poll(el); }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
