// Crisis map: Leaflet + markercluster, markers from the GeoJSON endpoint. No tiles are needed
// (the map is a plain canvas of markers); a basemap is added only when data-tiles names one.
"use strict";

(function () {
  const COLOURS = { 1: "#3a7d44", 2: "#c9a227", 3: "#d9822b", 4: "#b3261e" };
  const el = document.getElementById("crisis-map");
  const form = document.getElementById("map-filters");
  if (!el || !form || typeof L === "undefined") { return; }
  el.style.height = "28rem";  // CSSOM, allowed by the CSP (no inline style attribute)
  el.style.background = "#eef2f0";

  // maxZoom is set on the map itself: with no tile layer, markercluster has nothing to read it from
  const map = L.map(el, { worldCopyJump: true, attributionControl: false, maxZoom: 18, minZoom: 2 })
    .setView([20, 0], 2);
  if (el.dataset.tiles) {
    L.tileLayer(el.dataset.tiles, { maxZoom: 19 }).addTo(map);
  }
  const cluster = L.markerClusterGroup({ showCoverageOnHover: false });
  map.addLayer(cluster);

  function popup(feature) {
    const p = feature.properties;
    const box = document.createElement("div");
    const title = document.createElement("strong");
    title.textContent = "#" + feature.id + " " + p.title;
    const meta = document.createElement("p");
    meta.textContent = p.category.replace(/_/g, " ") + " · severity " + p.severity + " · " +
      p.status + (p.location_name ? " · " + p.location_name : "");
    const text = document.createElement("p");
    text.textContent = p.description || "";
    box.append(title, meta, text);
    return box;
  }

  function query() {
    const params = new URLSearchParams();
    params.set("community_id", form.dataset.community);
    const data = new FormData(form);
    for (const [key, value] of data.entries()) {
      if (value !== "") { params.append(key, value); }
    }
    return params;
  }

  async function load() {
    const params = query();
    for (const [id, base, extra] of [["export-csv", form.dataset.csv, ""],
                                     ["export-hxl", form.dataset.csv, "hxl=true&"],
                                     ["export-geojson", form.dataset.geojson, ""]]) {
      const a = document.getElementById(id);
      if (a) { a.href = base + "?" + extra + params.toString(); }
    }
    const response = await fetch(form.dataset.geojson + "?" + params.toString(),
                                 { credentials: "same-origin", headers: { Accept: "application/geo+json" } });
    if (!response.ok) { return; }
    const data = await response.json();
    cluster.clearLayers();
    const layer = L.geoJSON(data, {
      pointToLayer: (feature, latlng) => L.circleMarker(latlng, {
        radius: 6 + 2 * feature.properties.severity,
        color: COLOURS[feature.properties.severity] || "#555",
        weight: 2, fillOpacity: 0.6,
      }),
      onEachFeature: (feature, marker) => marker.bindPopup(() => popup(feature)),
    });
    cluster.addLayer(layer);
    const count = document.getElementById("map-count");
    if (count) { count.textContent = data.features.length + " report(s) on the map"; }
    el.dataset.markers = String(data.features.length);
    if (data.features.length) {
      map.fitBounds(layer.getBounds().pad(0.2), { maxZoom: 15 });
    }
    el.dataset.ready = "true";
  }

  form.addEventListener("change", load);
  load();

  // reporting: a click on the map places the report; the form posts JSON to the API
  const report = document.getElementById("report-form");
  if (!report) { return; }
  let pin = null;
  map.on("click", (event) => {
    report.elements.lat.value = event.latlng.lat.toFixed(6);
    report.elements.lon.value = event.latlng.lng.toFixed(6);
    if (pin) { pin.setLatLng(event.latlng); } else {
      pin = L.circleMarker(event.latlng, { radius: 8, color: "#1d4ed8", dashArray: "3" }).addTo(map);
    }
  });
  report.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(report);
    const body = { community_id: Number(report.dataset.community) };
    for (const [key, value] of data.entries()) {
      if (value === "") { continue; }
      body[key] = ["lat", "lon", "severity"].includes(key) ? Number(value) : value;
    }
    const meta = document.querySelector('meta[name="csrf-token"]');
    const response = await fetch(report.dataset.post, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json",
                 "X-CSRF-Token": meta ? meta.content : "" },
      body: JSON.stringify(body),
    });
    const message = document.getElementById("report-message");
    let answer = null;
    try { answer = await response.json(); } catch (e) { answer = null; }
    if (!response.ok) {
      const problems = answer && answer.problems ? answer.problems.map((p) => p.field + ": " + p.message) : [];
      message.textContent = "Not sent: " + ((answer && answer.detail) || response.status) +
        (problems.length ? " (" + problems.join("; ") + ")" : "");
      return;
    }
    message.textContent = "Report #" + answer.id + " sent; it is unverified until a dispatcher checks it.";
    report.reset();
    if (pin) { map.removeLayer(pin); pin = null; }
    await load();
  });
})();
