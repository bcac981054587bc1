// Passkeys (WebAuthn) for the companion: registration (data-ceremony="create", on the settings
// page) and sign-in (data-ceremony="get", on the second-factor page). A static file: the strict
// Content-Security-Policy allows no inline script. Without WebAuthn in the browser the passkey
// forms stay hidden and the rest of the page works as before.
(function () {
  "use strict";

  function toBytes(value) {
    var text = value.replace(/-/g, "+").replace(/_/g, "/");
    while (text.length % 4) { text += "="; }
    var binary = atob(text);
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) { bytes[i] = binary.charCodeAt(i); }
    return bytes.buffer;
  }

  function toText(buffer) {
    var bytes = new Uint8Array(buffer);
    var binary = "";
    for (var i = 0; i < bytes.length; i++) { binary += String.fromCharCode(bytes[i]); }
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function creationOptions(options) {
    options.challenge = toBytes(options.challenge);
    options.user.id = toBytes(options.user.id);
    (options.excludeCredentials || []).forEach(function (c) { c.id = toBytes(c.id); });
    return options;
  }

  function requestOptions(options) {
    options.challenge = toBytes(options.challenge);
    (options.allowCredentials || []).forEach(function (c) { c.id = toBytes(c.id); });
    return options;
  }

  function asJSON(credential) {
    var response = credential.response;
    var out = {
      id: credential.id,
      rawId: toText(credential.rawId),
      type: credential.type,
      clientExtensionResults: credential.getClientExtensionResults(),
      response: { clientDataJSON: toText(response.clientDataJSON) }
    };
    if (response.attestationObject) {
      out.response.attestationObject = toText(response.attestationObject);
      if (response.getTransports) { out.response.transports = response.getTransports(); }
    } else {
      out.response.authenticatorData = toText(response.authenticatorData);
      out.response.signature = toText(response.signature);
      if (response.userHandle) { out.response.userHandle = toText(response.userHandle); }
    }
    if (credential.authenticatorAttachment) { out.authenticatorAttachment = credential.authenticatorAttachment; }
    return out;
  }

  function post(url, token, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": token, "Content-Type": "application/json" },
      body: body === undefined ? "" : JSON.stringify(body)
    }).then(function (r) { return r.json(); });
  }

  function run(form, event) {
    event.preventDefault();
    var token = form.querySelector("input[name=csrfmiddlewaretoken]").value;
    var error = form.querySelector(".js-passkey-error");
    var creating = form.dataset.ceremony === "create";
    error.hidden = true;
    post(form.dataset.optionsUrl, token).then(function (answer) {
      if (answer.error) { throw new Error(answer.error); }
      return creating
        ? navigator.credentials.create({ publicKey: creationOptions(answer.options) })
        : navigator.credentials.get({ publicKey: requestOptions(answer.options) });
    }).then(function (credential) {
      var body = asJSON(credential);
      if (creating) {
        var name = form.querySelector("input[name=name]");
        body = { credential: body, name: name ? name.value : "" };
      }
      return post(form.dataset.verifyUrl, token, body);
    }).then(function (answer) {
      if (answer.error) { throw new Error(answer.error); }
      window.location.assign(answer.redirect);
    }).catch(function (problem) {
      error.textContent = problem && problem.message ? problem.message : String(problem);
      error.hidden = false;
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (!window.PublicKeyCredential || !navigator.credentials) { return; }
    document.querySelectorAll("form.js-passkey").forEach(function (form) {
      form.hidden = false;
      form.addEventListener("submit", function (event) { run(form, event); });
    });
  });
})();
