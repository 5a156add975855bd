/* Herald's compose page: a live preview from the server's dry run, telling HubSpot to close, and keeping
 * the draft while the agent records consent.
 * The page works without this file: the forms submit, the server renders the preview and the send. */
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  /* HubSpot closes its iframe modal on a JSON string {"action": "DONE"} posted to the parent;
   * the app-card modal is not documented to listen, so the top window is told as well. */
  function signal(action) {
    var message = JSON.stringify({ action: action });
    var targets = [];
    if (window.parent && window.parent !== window) targets.push(window.parent);
    if (window.top && window.top !== window && targets.indexOf(window.top) < 0) targets.push(window.top);
    targets.forEach(function (target) {
      try { target.postMessage(message, "*"); } catch (ignored) { /* a closed parent */ }
    });
    return targets.length > 0;
  }

  Array.prototype.forEach.call(document.querySelectorAll("[data-close]"), function (button) {
    button.addEventListener("click", function () {
      if (!signal(button.getAttribute("data-close"))) window.close();
      button.disabled = true;
      button.textContent = "You can close this window now";
    });
  });

  var done = document.getElementById("done");
  if (done && done.getAttribute("data-done") === "1") {
    window.setTimeout(function () { signal("DONE"); }, 2500);
  }

  var chooser = document.getElementById("chooser");
  if (chooser) {
    Array.prototype.forEach.call(chooser.querySelectorAll("[data-autosubmit]"), function (select) {
      select.addEventListener("change", function () { chooser.submit(); });
    });
  }

  var form = document.getElementById("compose");

  /* Recording consent reloads the page (post, then redirect). The server brings back the channel,
   * message and purpose; what the agent typed stays in this tab, never in a URL, and comes back here. */
  function draftKey() {
    var csrf = form && form.elements.namedItem("csrf");
    return csrf ? "herald-draft:" + csrf.value : null;
  }

  function typed(element) {
    return element.name === "text" || element.name.indexOf("p.") === 0;
  }

  var consentForm = document.getElementById("consent-form");
  if (consentForm && form) {
    consentForm.addEventListener("submit", function () {
      ["purpose", "sender"].forEach(function (name) {
        var from = form.elements.namedItem(name);
        var to = consentForm.elements.namedItem(name);
        if (from && to) to.value = from.value;
      });
      var draft = { channel: form.elements.namedItem("channel").value,
                    template: form.elements.namedItem("template").value, fields: {} };
      Array.prototype.forEach.call(form.elements, function (element) {
        if (typed(element)) draft.fields[element.name] = element.value;
      });
      try { window.sessionStorage.setItem(draftKey(), JSON.stringify(draft)); } catch (ignored) { /* no storage */ }
      window.setTimeout(function () {
        Array.prototype.forEach.call(consentForm.querySelectorAll("button"), function (b) { b.disabled = true; });
      }, 0);
    });
  }

  if (!form || !window.fetch) return;
  var previewUrl = form.getAttribute("data-preview-url");
  var sequence = 0;
  var timer = null;

  function byId(id) { return document.getElementById(id); }

  function fillList(list, items) {
    while (list.firstChild) list.removeChild(list.firstChild);
    items.forEach(function (text) {
      var item = document.createElement("li");
      item.textContent = text;
      list.appendChild(item);
    });
  }

  function show(view) {
    var state = byId("preview-state");
    state.textContent = view.headline || "";
    state.className = "state state-" + (view.outcome || "");
    state.hidden = !view.headline;

    var bubble = byId("preview-text");
    bubble.textContent = view.text || bubble.getAttribute("data-empty");
    bubble.classList.toggle("is-partial", !view.complete);
    bubble.classList.toggle("is-blocked", view.complete && view.outcome === "refused");

    var sms = byId("sms-line");
    sms.textContent = view.sms_line || "";
    sms.hidden = !view.sms_line;

    var refused = view.outcome === "refused" && view.reasons.length > 0;
    byId("reasons").hidden = !refused;
    byId("reasons-lead").textContent = view.policy_refused
      ? "Herald's proactive-message policy does not allow this message:"
      : "This message cannot be sent yet:";
    fillList(byId("reasons-list"), refused ? view.reasons.map(function (r) { return r.message; }) : []);
    var needsConsent = refused && !!view.consent_needed;
    byId("consent-pointer").hidden = !needsConsent;
    var consent = byId("consent");
    if (consent) consent.classList.toggle("is-needed", needsConsent);

    var notes = byId("notes");
    fillList(notes, view.notes || []);
    notes.hidden = !(view.notes && view.notes.length);

    var confirmBox = byId("confirm-box");
    confirmBox.hidden = !view.needs_confirmation;
    fillList(byId("confirm-reasons"), view.needs_confirmation ? view.reasons.map(function (r) { return r.message; }) : []);
    fillList(byId("confirm-questions"), view.questions || []);

    Array.prototype.forEach.call(form.querySelectorAll("[aria-invalid]"), function (el) {
      el.removeAttribute("aria-invalid");
    });
    if (view.outcome === "refused") {
      Object.keys(view.field_ids || {}).forEach(function (id) {
        var input = byId(id);
        if (input) input.setAttribute("aria-invalid", "true");
      });
    }
  }

  function showProblem(message) {
    var state = byId("preview-state");
    state.textContent = "Preview unavailable";
    state.className = "state state-refused";
    state.hidden = false;
    byId("reasons").hidden = false;
    byId("reasons-lead").textContent = message || "The preview could not be updated.";
    fillList(byId("reasons-list"), []);
  }

  function preview() {
    var mine = ++sequence;
    var data = new URLSearchParams(new FormData(form));
    data.delete("confirmed");
    fetch(previewUrl, {
      method: "POST", body: data, credentials: "same-origin", headers: { "Accept": "application/json" }
    }).then(function (response) {
      return response.json().then(function (body) { return { ok: response.ok, body: body }; });
    }).then(function (answer) {
      if (mine !== sequence) return;
      if (answer.ok) show(answer.body); else showProblem(answer.body.error);
    }).catch(function () {
      if (mine === sequence) showProblem("The preview could not be updated; Send still checks everything.");
    });
  }

  function schedule() {
    window.clearTimeout(timer);
    timer = window.setTimeout(preview, 250);
  }

  form.addEventListener("input", function (event) {
    if (event.target.id !== "confirmed") schedule();
  });
  form.addEventListener("change", function (event) {
    if (event.target.tagName === "SELECT") schedule();
  });
  form.addEventListener("submit", function () {
    var send = byId("send");
    window.setTimeout(function () { send.disabled = true; send.textContent = "Sending…"; }, 0);
  });

  function restoreDraft() {
    var saved = null;
    try {
      saved = JSON.parse(window.sessionStorage.getItem(draftKey()) || "null");
      window.sessionStorage.removeItem(draftKey());
    } catch (ignored) { return; }
    if (!saved || !saved.fields || saved.channel !== form.elements.namedItem("channel").value ||
        saved.template !== form.elements.namedItem("template").value) return;
    Object.keys(saved.fields).forEach(function (name) {
      var element = form.elements.namedItem(name);
      if (element && typed(element) && typeof saved.fields[name] === "string") element.value = saved.fields[name];
    });
    preview();
  }
  restoreDraft();
})();
