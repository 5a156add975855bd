/* The playground's stand-in for HubSpot: open the compose page in a modal iframe, close it on
 * {"action": "DONE"} or "CANCEL" from the page, and reload the card as the app card does on close. */
(function () {
  "use strict";
  var modal = document.getElementById("compose-modal");
  var frame = document.getElementById("compose-frame");
  var link = document.querySelector("[data-compose]");
  if (!modal || !frame || !link || typeof modal.showModal !== "function") return;

  function closeModal() {
    if (modal.open) modal.close();
  }

  link.addEventListener("click", function (event) {
    event.preventDefault();
    frame.src = link.href;
    modal.showModal();
  });

  document.getElementById("modal-close").addEventListener("click", closeModal);

  modal.addEventListener("close", function () {
    frame.src = "about:blank";
    window.location.reload();
  });

  window.addEventListener("message", function (event) {
    if (event.origin !== window.location.origin || event.source !== frame.contentWindow) return;
    var action = null;
    try { action = JSON.parse(event.data).action; } catch (ignored) { return; }
    if (action === "DONE" || action === "CANCEL") closeModal();
  });
})();
