// commonweal pages: a few lines of our own on top of htmx (no inline scripts: the CSP forbids them).
"use strict";
document.documentElement.classList.add("js");

function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.content : "";
}

// Every htmx request carries the CSRF token the server checks on cookie-authenticated changes,
// and asks for HTML (so an ended session is answered with a redirect to the login form).
document.addEventListener("htmx:configRequest", (event) => {
  event.detail.headers["Accept"] = "text/html";
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

// When the session has ended, an htmx request is redirected to the login form: go there as a
// whole page instead of swapping the form into the middle of this one.
document.addEventListener("htmx:beforeSwap", (event) => {
  const xhr = event.detail.xhr;
  const url = xhr && xhr.responseURL;
  if (url && new URL(url).pathname === "/login") {
    event.detail.shouldSwap = false;
    window.location.assign(url);
  } else if (xhr && xhr.status === 401) {
    event.detail.shouldSwap = false;
    window.location.assign("/login?next=" + encodeURIComponent(window.location.pathname));
  }
});
