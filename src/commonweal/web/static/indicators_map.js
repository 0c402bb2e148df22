// Choropleth of an index run: Leaflet (no tiles) on the bundled us-atlas TopoJSON with scores from
// the run's map-data endpoint or, when the organisation has its own boundaries (data-geojson), on
// the run's GeoJSON (own shapes first, US counties else); five quantile classes, a legend, hover
// and click for the unit's name and score. Sets data-map-ready="<number of areas drawn>" when done.
"use strict";

(function () {
  const el = document.getElementById("county-map");
  const status = document.getElementById("map-status");
  if (!el || typeof L === "undefined" || typeof topojson === "undefined") { return; }
  el.style.height = "30rem";  // CSSOM, allowed by the CSP (no inline style attribute)
  el.style.background = "#f4f6f5";

  const COLOURS = ["#fef0d9", "#fdcc8a", "#fc8d59", "#e34a33", "#b30000"];
  const MISSING = "#d9d9d9";

  function quantileBreaks(values, k) {
    const v = values.slice().sort((a, b) => a - b);
    const breaks = [];
    for (let i = 1; i < k; i++) { breaks.push(v[Math.min(v.length - 1, Math.floor(i * v.length / k))]); }
    return breaks;
  }

  function classOf(value, breaks) {
    let c = 0;
    while (c < breaks.length && value >= breaks[c]) { c++; }
    return c;
  }

  function fmt(x) {
    if (x === null || x === undefined) { return "missing"; }
    return Math.abs(x) >= 100 ? x.toFixed(0) : Number(x.toPrecision(4)).toString();
  }

  function box(lines) {
    const div = document.createElement("div");
    lines.forEach(function (text, i) {
      const p = document.createElement(i === 0 ? "strong" : "div");
      p.textContent = text;
      div.appendChild(p);
    });
    return div;
  }

  function panel(position) {
    const ctl = L.control({ position: position });
    ctl.onAdd = function () {
      const d = L.DomUtil.create("div", "map-panel");
      d.style.background = "rgba(255,255,255,0.92)";
      d.style.padding = "6px 8px";
      d.style.borderRadius = "4px";
      d.style.font = "12px/1.4 system-ui, sans-serif";
      d.style.boxShadow = "0 1px 3px rgba(0,0,0,0.25)";
      return d;
    };
    return ctl;
  }

  async function load() {
    // own boundaries: one GeoJSON with the scores in its properties
    if (el.dataset.geojson) {
      const r = await fetch(el.dataset.geojson, { credentials: "same-origin" });
      if (!r.ok) { return null; }
      const doc = await r.json();
      const units = {};
      doc.features.forEach(function (f) {
        const p = f.properties;
        units[f.id] = [p.score, p.rank, p.percentile, p.name];
      });
      const meta = doc.properties;
      return { features: doc, units: units, unmatched: meta.unmatched, kind: "areas",
               data: { title: meta.title, period: meta.period, index_column: meta.index_column,
                       n_units: meta.n_units } };
    }
    const [topoResponse, scoreResponse] = await Promise.all([
      fetch(el.dataset.topology, { credentials: "same-origin" }),
      fetch(el.dataset.scores, { credentials: "same-origin", headers: { Accept: "application/json" } }),
    ]);
    if (!topoResponse.ok || !scoreResponse.ok) { return null; }
    const topo = await topoResponse.json();
    const data = await scoreResponse.json();
    return { features: topojson.feature(topo, topo.objects.counties), topo: topo, units: data.units,
             data: data, kind: "counties" };
  }

  async function draw() {
    const loaded = await load();
    if (loaded === null) {
      status.textContent = "The map could not be loaded.";
      return;
    }
    const data = loaded.data;
    const units = loaded.units;
    const topo = loaded.topo;
    const values = Object.values(units).map((u) => u[0]).filter((s) => s !== null);
    const breaks = quantileBreaks(values, COLOURS.length);

    const map = L.map(el, { attributionControl: false, zoomSnap: 0.25, minZoom: 2, maxZoom: 14 });
    if (loaded.kind === "counties") {
      map.fitBounds([[24.5, -124.8], [49.4, -66.9]]);  // the contiguous states; pan for AK, HI, PR
    }
    const counties = loaded.features;
    let drawn = 0;
    const info = panel("topright");
    info.addTo(map);
    const infoEl = info.getContainer();
    infoEl.appendChild(box([data.title + ", " + data.period,
                            "Hover over " + (loaded.kind === "counties" ? "a county" : "an area")]));

    function describe(feature) {
      const u = units[feature.id];
      const name = u ? u[3] : (feature.properties.name || feature.id);
      if (!u) { return [name + " (" + feature.id + ")", "no result in this run"]; }
      return [name + " (" + feature.id + ")", data.index_column + ": " + fmt(u[0]),
              "rank " + (u[1] === null ? "–" : u[1]) + " of " + data.n_units];
    }

    const layer = L.geoJSON(counties, {
      filter: (f) => f.geometry !== null && units[f.id] !== undefined,  // only this run's units
      style: function (feature) {
        const u = units[feature.id];
        const s = u ? u[0] : null;
        return { fillColor: s === null ? MISSING : COLOURS[classOf(s, breaks)], fillOpacity: 0.9,
                 color: "#ffffff", weight: 0.3, opacity: 1 };
      },
      onEachFeature: function (feature, lyr) {
        drawn++;
        lyr.on("mouseover", function () {
          lyr.setStyle({ weight: 2, color: "#222222" });
          lyr.bringToFront();
          infoEl.replaceChildren(box(describe(feature)));
        });
        lyr.on("mouseout", function () { layer.resetStyle(lyr); });
        lyr.bindPopup(() => box(describe(feature)));
      },
    }).addTo(map);
    if (loaded.kind !== "counties" && drawn > 0) { map.fitBounds(layer.getBounds(), { padding: [8, 8] }); }
    if (topo && topo.objects.states) {
      L.geoJSON(topojson.mesh(topo, topo.objects.states, (a, b) => a !== b), {
        style: { color: "#555555", weight: 0.8, fill: false, interactive: false },
        interactive: false,
      }).addTo(map);
    }

    const legend = panel("bottomright");
    legend.addTo(map);
    const lg = legend.getContainer();
    const title = document.createElement("strong");
    title.textContent = data.index_column + " (quintiles)";
    lg.appendChild(title);
    const edges = [Math.min(...values)].concat(breaks, [Math.max(...values)]);
    COLOURS.concat([MISSING]).forEach(function (colour, i) {
      const row = document.createElement("div");
      row.className = "legend-row";
      const swatch = document.createElement("span");
      swatch.style.display = "inline-block";
      swatch.style.width = "14px";
      swatch.style.height = "10px";
      swatch.style.marginRight = "6px";
      swatch.style.background = colour;
      swatch.style.border = "1px solid #999";
      row.appendChild(swatch);
      row.appendChild(document.createTextNode(
        i < COLOURS.length ? fmt(edges[i]) + " – " + fmt(edges[i + 1]) : "missing"));
      lg.appendChild(row);
    });

    const missing = loaded.kind === "counties" ? Object.keys(units).length - drawn : loaded.unmatched;
    status.textContent = drawn + " " + loaded.kind + " drawn" +
      (missing > 0 ? "; " + missing + " units of the run have no boundary" : "") + ".";
    el.dataset.mapReady = String(drawn);
  }

  draw().catch(function (err) {
    status.textContent = "The map could not be drawn: " + err;
  });
})();
