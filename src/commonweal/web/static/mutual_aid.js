// Mutual-aid pages: buttons that call the JSON API and reload the page (no inline scripts: CSP).
"use strict";

(function () {
  function csrf() {
    const meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  function say(text, bad) {
    const box = document.getElementById("aid-message");
    if (box) {
      box.textContent = text;
      box.classList.toggle("aid-error", Boolean(bad));
    }
  }

  async function post(url, body) {
    const response = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf(),
                 "Accept": "application/json" },
      body: JSON.stringify(body || {}),
    });
    let data = null;
    try { data = await response.json(); } catch (e) { data = null; }
    if (!response.ok) {
      say((data && data.detail) || ("The request failed (" + response.status + ")"), true);
      return false;
    }
    return true;
  }

  document.addEventListener("click", async (event) => {
    const el = event.target instanceof Element ? event.target.closest("[data-aid-post]") : null;
    if (!el) { return; }
    event.preventDefault();
    el.setAttribute("disabled", "");
    const body = el.dataset.body ? JSON.parse(el.dataset.body) : {};
    if (await post(el.dataset.aidPost, body)) { window.location.reload(); }
    el.removeAttribute("disabled");
  });

  document.addEventListener("submit", async (event) => {
    const form = event.target;
    if (form instanceof HTMLFormElement && form.dataset.offer) {
      event.preventDefault();
      const data = new FormData(form);
      const body = { categories: data.getAll("categories") };
      for (const key of ["area", "lat", "lon", "max_distance_km", "capacity"]) {
        const value = data.get(key);
        if (value !== null && value !== "") {
          body[key] = key === "area" ? value : Number(value);
        }
      }
      const langs = String(data.get("languages") || "").split(",").map((x) => x.trim()).filter(Boolean);
      if (langs.length) { body.languages = langs; }
      if (await post(form.dataset.offer, body)) { window.location.reload(); }
      return;
    }
    if (!(form instanceof HTMLFormElement) || !form.dataset.override) { return; }
    event.preventDefault();
    const offer = Number(new FormData(form).get("offer_id"));
    if (await post(form.dataset.override, { need_id: Number(form.dataset.need), offer_id: offer })) {
      window.location.reload();
    }
  });
})();
