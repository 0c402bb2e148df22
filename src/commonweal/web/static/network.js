// Community network view: draws the server's preset layout with cytoscape.js (no inline script:
// the CSP forbids it). Data: the JSON layout route named in #network-view[data-layout-url].
"use strict";
(function () {
  const FLAG_COLOURS = {
    articulation_point: "#D55E00",
    isolated: "#CC79A7",
    dependent_on_one: "#E69F00",
    single_contact: "#F0E442",
    overloaded: "#56B4E9",
    "": "#9aa3a8",
  };
  const COMMUNITY_COLOURS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9",
    "#F0E442", "#7f3c8d", "#11a579", "#3969ac", "#f2b701", "#e73f74"];
  const FLAG_WORDS = {
    articulation_point: "single point of failure",
    isolated: "isolated",
    dependent_on_one: "dependent on one person",
    single_contact: "single contact",
    overloaded: "overloaded",
    "": "",
  };

  function status(text) {
    const el = document.getElementById("network-status");
    if (el) el.textContent = text;
  }

  function draw(box, data) {
    const memberUrl = box.dataset.memberUrl;
    const elements = [];
    data.nodes.forEach((n) => {
      const label = n.name || "member " + n.id;
      elements.push({
        group: "nodes",
        data: {
          id: "n" + n.id, member: n.id, label: label, flag: n.flag,
          flagColour: FLAG_COLOURS[n.flag] || FLAG_COLOURS[""],
          communityColour: COMMUNITY_COLOURS[((n.community % COMMUNITY_COLOURS.length) + COMMUNITY_COLOURS.length) % COMMUNITY_COLOURS.length],
          size: 6 + Math.min(14, 2 * Math.sqrt(n.degree)) + (n.cut_off > 0 ? 4 : 0),
          title: label + (n.flag ? " (" + FLAG_WORDS[n.flag] + (n.cut_off ? ", would cut off " + n.cut_off : "") + ")" : ""),
        },
        position: { x: n.x, y: n.y },
      });
    });
    data.edges.forEach((e, i) => {
      elements.push({
        group: "edges",
        data: { id: "e" + i, source: "n" + data.nodes[e[0]].id, target: "n" + data.nodes[e[1]].id, both: e[2] },
      });
    });
    const cy = window.cytoscape({
      container: box,
      elements: elements,
      layout: { name: "preset", fit: true, padding: 20 },
      wheelSensitivity: 0.3,
      minZoom: 0.05,
      maxZoom: 8,
      textureOnViewport: data.nodes.length > 1500,
      hideEdgesOnViewport: data.edges.length > 4000,
      style: [
        { selector: "node", style: {
          "background-color": "data(flagColour)", width: "data(size)", height: "data(size)",
          "border-width": 0.6, "border-color": "#333", label: "",
        } },
        { selector: "node.by-community", style: { "background-color": "data(communityColour)" } },
        { selector: "node:selected, node.hover", style: {
          label: "data(title)", "font-size": 11, "text-background-color": "#fff",
          "text-background-opacity": 0.9, "text-background-padding": 2, "z-index": 10,
          "border-width": 2,
        } },
        { selector: "edge", style: { width: 0.7, "line-color": "#b7bcc0", "curve-style": "haystack", "line-style": "dashed", "line-dash-pattern": [3, 2] } },
        { selector: "edge[both = 1]", style: { "line-style": "solid", "line-color": "#9aa0a5" } },
      ],
    });
    cy.on("mouseover", "node", (ev) => ev.target.addClass("hover"));
    cy.on("mouseout", "node", (ev) => ev.target.removeClass("hover"));
    cy.on("tap", "node", (ev) => {
      window.location.assign(memberUrl + ev.target.data("member"));
    });
    const colour = document.getElementById("network-colour");
    if (colour) {
      colour.addEventListener("change", () => {
        cy.batch(() => {
          cy.nodes().toggleClass("by-community", colour.value === "community");
        });
        const legend = document.getElementById("network-legend");
        if (legend) legend.hidden = colour.value === "community";
      });
    }
    box.dataset.nodes = String(cy.nodes().length);
    box.dataset.edges = String(cy.edges().length);
    box.dataset.ready = "1";
    let text = data.n_drawn + " people and " + data.edges.length + " ties drawn";
    if (data.truncated) {
      text += " (of " + data.n_people + " people: the most at risk and best connected first)";
    }
    status(text + ".");
    window.commonwealNetwork = cy;
  }

  function start() {
    const box = document.getElementById("network-view");
    if (!box || typeof window.cytoscape !== "function") return;
    fetch(box.dataset.layoutUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then((r) => {
        if (!r.ok) throw new Error("the drawing could not be loaded (" + r.status + ")");
        return r.json();
      })
      .then((data) => {
        if (!data.nodes.length) {
          status("No one to draw yet.");
          box.dataset.ready = "1";
          return;
        }
        draw(box, data);
      })
      .catch((err) => status(err.message));
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
