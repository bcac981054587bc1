// The chair-side console of a session in progress: the screen lock, and the reading an alert is on.
//
// The server (kapstone.web.middleware.IdleTimeoutMiddleware) is the authority: past the idle time
// since the user's last action it serves this console only its polls and the unlock endpoint. This
// script locks the page a little before that moment, covering it without reloading, so whatever the
// nurse typed stays in the forms underneath until the same user unlocks with their password or
// authenticator code.
(function () {
  "use strict";
  var lock = document.getElementById("console-lock");
  if (!lock) { return; }
  var idleMs = Number(lock.dataset.idleSeconds) * 1000;
  // Lock slightly early: the server's clock started with the request that served this page.
  var leadMs = Math.min(10000, idleMs / 10);
  var lockAt = Date.now() + idleMs - leadMs;
  var lastPing = Date.now();
  var locked = false;
  var returnFocus = null;
  var form = document.getElementById("unlock-form");
  var secret = document.getElementById("unlock-secret");
  var error = document.getElementById("unlock-error");
  var lockAlert = document.getElementById("lock-alert");
  var stillHereUrl = lock.dataset.stillHereUrl;
  var csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;

  function others() {
    return Array.prototype.filter.call(document.body.children, function (el) {
      return el !== lock && !el.contains(lock);
    }).concat(Array.prototype.filter.call(document.getElementById("main").children, function (el) {
      return el !== lock;
    }));
  }

  function showError(text) {
    error.textContent = text;
    error.hidden = !text;
  }

  function lockScreen() {
    locked = true;
    returnFocus = document.activeElement;
    // The lock lives inside <main>: make main's other content and the rest of the page inert.
    others().forEach(function (el) { el.inert = true; });
    document.body.classList.add("console-locked");
    lock.hidden = false;
    showError("");
    noteAlerts();
    secret.focus();
  }

  function unlockScreen() {
    locked = false;
    lock.hidden = true;
    document.body.classList.remove("console-locked");
    others().forEach(function (el) { el.inert = false; });
    secret.value = "";
    lockAt = Date.now() + idleMs - leadMs;
    lastPing = Date.now();
    if (returnFocus && typeof returnFocus.focus === "function") { returnFocus.focus(); }
  }

  // While locked, say (without patient details) that an alert is waiting behind the lock.
  function noteAlerts() {
    var open = document.querySelector("#session-alerts .session-alert") !== null;
    if (open && lockAlert.hidden) {
      lockAlert.hidden = false;
      lockAlert.setAttribute("role", "alert");
    } else if (!open) {
      lockAlert.hidden = true;
    }
  }

  // Someone typing or tapping is not idle: tell the server (at most once a minute). The lock is
  // timed from what the server last heard, never from unreported taps, so a save made before the
  // lock shows is never refused as idle.
  function activity() {
    if (locked) { return; }
    var now = Date.now();
    if (now - lastPing < Math.min(60000, idleMs / 3)) { return; }
    lastPing = now;
    lockAt = now + idleMs - leadMs;
    fetch(stillHereUrl, {
      method: "POST",
      headers: { "X-CSRFToken": csrf },
      credentials: "same-origin",
    });
  }
  ["keydown", "pointerdown", "input"].forEach(function (name) {
    document.addEventListener(name, activity, true);
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    showError("");
    fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      credentials: "same-origin",
      headers: { "Accept": "application/json" },
    }).then(function (response) {
      var json = (response.headers.get("Content-Type") || "").indexOf("application/json") === 0;
      if (!json) {
        return { ok: false, signed_out: true, error: "Your sign-in has ended. Sign in again." };
      }
      return response.json();
    }).then(function (answer) {
      if (answer.ok) {
        unlockScreen();
        return;
      }
      secret.value = "";
      showError(answer.error);
      if (answer.signed_out) {
        form.querySelector("button[type=submit]").disabled = true;
      }
    }, function () {
      showError("The server could not be reached. Check the network and try again.");
    });
  });

  // The readings an open alert was raised on are highlighted, also when the alert arrives by poll.
  function highlight() {
    var on = {};
    document.querySelectorAll("#session-alerts [data-alert-reading]").forEach(function (el) {
      on[el.dataset.alertReading] = true;
    });
    document.querySelectorAll("tr[data-reading]").forEach(function (row) {
      if (!row.classList.contains("struck")) {
        row.classList.toggle("alerting", on[row.dataset.reading] === true);
      }
    });
  }
  document.body.addEventListener("htmx:afterSettle", function () {
    highlight();
    if (locked) { noteAlerts(); }
  });

  setInterval(function () {
    if (!locked && Date.now() >= lockAt) { lockScreen(); }
  }, 1000);
})();
