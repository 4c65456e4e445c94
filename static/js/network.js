// The network picture: young people and contexts drawn by Cytoscape.js
// (served from our own static files; loaded before this module), from the
// JSON the page carries in #network-data. No inline script, no styles set
// by markup: the content-security policy holds.
//
// Keyboard: the picture is one tab stop. Arrow keys move the selection to
// the nearest node in that direction, Tab moves on out of it, Enter opens
// the selected node's page (if it has one) and Escape clears the selection.
// Each selection is announced in #network-status. The table beside it holds
// the same links for anyone who prefers it.

const container = document.getElementById("network");
const source = document.getElementById("network-data");
const status = document.getElementById("network-status");

const COLOURS = { red: "#d4351c", amber: "#f47738", green: "#00703c" };

function elements(graph) {
  const nodes = graph.nodes.map((n) => ({
    data: { ...n, colour: COLOURS[n.risk] || "#505a5f" },
    classes: [n.kind, n.focus ? "focus" : ""].join(" ").trim(),
  }));
  const edges = graph.edges.map((e, i) => ({ data: { id: `e${i}`, ...e } }));
  return [...nodes, ...edges];
}

function draw(graph) {
  const cy = window.cytoscape({
    container,
    elements: elements(graph),
    // Big graphs: no animation, so the picture is ready at once.
    layout: { name: graph.nodes.length > 150 ? "concentric" : "cose", animate: false, fit: true, padding: 24 },
    wheelSensitivity: 0.2,
    style: [
      { selector: "node", style: {
        label: "data(label)", "font-size": 11, "text-wrap": "ellipsis", "text-max-width": 140,
        "text-valign": "bottom", "text-margin-y": 4, color: "#0b0c0c", "background-color": "data(colour)",
        width: 22, height: 22 } },
      { selector: "node.context", style: { shape: "round-rectangle", width: 30, height: 30 } },
      { selector: "node.focus", style: { "border-width": 3, "border-color": "#0b0c0c" } },
      { selector: "node.anonymous", style: { "background-color": "#b1b4b6", label: "", width: 16, height: 16 } },
      { selector: "node:selected", style: { "overlay-color": "#ffdd00", "overlay-opacity": 0.6, "overlay-padding": 6 } },
      { selector: "edge", style: { width: 2, "line-color": "#b1b4b6", "curve-style": "straight" } },
    ],
  });
  return cy;
}

function describe(node) {
  const data = node.data();
  const neighbours = node.neighborhood("node").map((n) => n.data("label"));
  const kind = data.kind === "context" ? data.detail : data.kind === "case" ? `young person, ${data.detail}` : "young person";
  const linked = neighbours.length ? `linked to ${neighbours.join(", ")}` : "no links";
  const open = data.href ? " Press Enter to open." : "";
  return `${data.label} (${kind}): ${linked}.${open}`;
}

function nearest(cy, from, dx, dy) {
  const origin = from.renderedPosition();
  let best = null;
  let bestScore = Infinity;
  cy.nodes().forEach((node) => {
    if (node.same(from)) return;
    const p = node.renderedPosition();
    const along = (p.x - origin.x) * dx + (p.y - origin.y) * dy;
    if (along <= 0) return;
    const across = Math.abs((p.x - origin.x) * dy - (p.y - origin.y) * dx);
    const score = along + 2 * across;
    if (score < bestScore) {
      bestScore = score;
      best = node;
    }
  });
  return best;
}

function select(cy, node) {
  cy.nodes().unselect();
  node.select();
  status.textContent = describe(node);
}

function keyboard(cy) {
  const directions = { ArrowRight: [1, 0], ArrowLeft: [-1, 0], ArrowDown: [0, 1], ArrowUp: [0, -1] };
  container.addEventListener("focus", () => {
    if (cy.nodes(":selected").empty() && cy.nodes().nonempty()) {
      const start = cy.nodes(".focus").nonempty() ? cy.nodes(".focus")[0] : cy.nodes()[0];
      select(cy, start);
    }
  });
  container.addEventListener("keydown", (event) => {
    const current = cy.nodes(":selected")[0];
    if (event.key in directions && current) {
      const [dx, dy] = directions[event.key];
      const next = nearest(cy, current, dx, dy);
      if (next) select(cy, next);
      event.preventDefault();
    } else if (event.key === "Enter" && current && current.data("href")) {
      window.location.assign(current.data("href"));
    } else if (event.key === "Escape") {
      cy.nodes().unselect();
      status.textContent = "";
    }
  });
  cy.on("tap", "node", (event) => {
    select(cy, event.target);
    container.focus();
  });
  cy.on("dbltap", "node", (event) => {
    if (event.target.data("href")) window.location.assign(event.target.data("href"));
  });
}

function start() {
  if (!container || !source || typeof window.cytoscape !== "function") return;
  const graph = JSON.parse(source.textContent);
  const cy = draw(graph);
  keyboard(cy);
  container.dataset.ready = "true";
  container.dataset.nodes = String(cy.nodes().length);
  status.textContent = `${cy.nodes().length} people and contexts, ${cy.edges().length} links. Select the picture and use the arrow keys to explore.`;
}

if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", start);
} else {
  start();
}
