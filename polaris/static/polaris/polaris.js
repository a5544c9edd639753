// Comforts for the interactive pages; every page works without this file.
(function () {
  "use strict";
  // Tell the wallet the flow is done (SEP-24 callback=postMessage): to the opener, else the parent frame.
  var marker = document.getElementById("polaris-post-message");
  var data = document.getElementById("polaris-transaction");
  if (marker && data) {
    var target = window.opener || (window.parent !== window ? window.parent : null);
    if (target) target.postMessage(JSON.parse(data.textContent), "*");
  }
  // Move focus to the error summary so screen readers announce it.
  var summary = document.getElementById("error-summary");
  if (summary) summary.focus();
  // One submission per click: a second would be refused anyway, and it confuses users.
  Array.prototype.forEach.call(document.querySelectorAll("form"), function (form) {
    form.addEventListener("submit", function () {
      var button = form.querySelector("button[type=submit]");
      if (button) setTimeout(function () { button.disabled = true; }, 0);
    });
  });
})();
