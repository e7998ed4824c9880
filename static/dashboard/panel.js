// The panel's only script, loaded by base.html (the Content-Security-Policy allows no inline
// script or event handler). Everything works without it.
"use strict";

// A form marked data-disable-on-submit disables its submit buttons once sent, so a double
// click sends it once (the server refuses a second submission of the same form anyway).
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-disable-on-submit")) {
    return;
  }
  // After this event's dispatch, so the form data is built with the buttons still enabled.
  setTimeout(() => {
    form.querySelectorAll("button[type=submit], input[type=submit]").forEach((button) => {
      button.disabled = true;
    });
  }, 0);
});
