// commonweal pages: a few lines of our own on top of htmx (no inline scripts: the CSP forbids them).
"use strict";
document.documentElement.classList.add("js");

function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.content : "";
}

// Every htmx request carries the CSRF token the server checks on cookie-authenticated changes.
document.addEventListener("htmx:configRequest", (event) => {
  const token = csrfToken();
  if (token) {
    event.detail.headers["X-CSRF-Token"] = token;
  }
});

// The organisation/community switcher goes as soon as a choice is made.
document.addEventListener("change", (event) => {
  const el = event.target;
  if (el instanceof HTMLSelectElement && el.hasAttribute("data-autosubmit") && el.form) {
    el.form.requestSubmit();
  }
});
