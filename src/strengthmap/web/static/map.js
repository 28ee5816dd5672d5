// The map page and the directory's results map: areas (choropleth) + assets (points), no tiles needed.
(function () {
  "use strict";
  var KIND_COLOURS = {
    individual: "#d55e00", association: "#0072b2", institution: "#6a3d9a",
    physical_space: "#117733", economy: "#8c6d00", culture: "#cc3377"
  };
  var ATTRIBUTION = 'Contains ONS, MHCLG and NHS ODS data, OGL v3.0; OS data © Crown copyright; ' +
    '© <a href="https://www.openstreetmap.org/copyright">OpenStreetMap contributors</a>, ODbL';

  function escapeHtml(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  function makeMap(el) {
    var map = L.map(el, { zoomSnap: 0.25, attributionControl: true });
    map.attributionControl.setPrefix('<a href="https://leafletjs.com">Leaflet</a>');
    map.attributionControl.addAttribution(ATTRIBUTION);
    var tiles = el.getAttribute("data-tile-url");
    if (tiles) { L.tileLayer(tiles, { maxZoom: 19 }).addTo(map); }
    map.setView([53.8, -1.55], 11);
    return map;
  }

  function drawAssets(map, url, status) {
    if (!url) { return null; }
    var layer = L.layerGroup().addTo(map);
    fetch(url, { headers: { Accept: "application/json" } }).then(function (r) {
      return r.ok ? r.json() : { features: [] };
    }).then(function (fc) {
      (fc.features || []).forEach(function (f) {
        if (!f.geometry) { return; }
        var c = f.geometry.coordinates, p = f.properties || {};
        var m = L.circleMarker([c[1], c[0]], {
          radius: 7, color: "#000", weight: 1.5, fillOpacity: 0.95,
          fillColor: KIND_COLOURS[p.abcd_kind] || "#444"
        });
        m.bindPopup('<a href="/services/' + encodeURIComponent(p.id) + '">' + escapeHtml(p.name) + "</a>" +
          (p.location ? "<br>" + escapeHtml(p.location) : ""));
        m.feature = f;
        m.addTo(layer);
      });
      layer.eachLayer(function (m) { m.getElement && m.getElement() && m.getElement().setAttribute("data-asset", m.feature.properties.id); });
      if (status) { status.textContent += " " + (fc.features || []).length + " assets shown."; }
      if (map.getContainer().getAttribute("data-fit-assets") && (fc.features || []).length) {
        map.fitBounds(L.geoJSON(fc).getBounds(), { maxZoom: 15, padding: [30, 30] });
      }
    });
    return layer;
  }

  function setupAreaMap(el) {
    var map = makeMap(el);
    var status = document.getElementById("map-status");
    var areas = null;
    var state = { indicator: el.getAttribute("data-indicator"), vintage: el.getAttribute("data-vintage") };

    function renderLegend(fc) {
      var ul = document.getElementById("legend");
      var cap = document.getElementById("legend-caption");
      if (!ul) { return; }
      ul.innerHTML = "";
      fc.legend.forEach(function (item) {
        var li = document.createElement("li");
        var sw = document.createElement("span");
        sw.className = "swatch"; sw.style.background = item.colour;
        li.appendChild(sw); li.appendChild(document.createTextNode(item.label));
        ul.appendChild(li);
      });
      if (cap) { cap.textContent = fc.title; }
    }

    function load() {
      var url = "/api/areas.geojson?level=lsoa&vintage=" + encodeURIComponent(state.vintage) +
        "&indicator=" + encodeURIComponent(state.indicator);
      status.textContent = "Loading areas…";
      return fetch(url).then(function (r) { return r.json(); }).then(function (fc) {
        if (areas) { map.removeLayer(areas); }
        areas = L.geoJSON(fc, {
          style: function (f) {
            return { color: "#333", weight: 0.6, fillColor: f.properties.colour, fillOpacity: 0.75 };
          },
          onEachFeature: function (f, layer) {
            var p = f.properties;
            var v = p.value === null ? "no data" : (fc.kind === "decile" ? p.value : p.value.toFixed(1));
            layer.bindTooltip(escapeHtml(p.name) + ": " + v, { sticky: true });
            layer.on("click", function () { window.location.href = "/areas/" + encodeURIComponent(p.code); });
          }
        }).addTo(map);
        areas.eachLayer(function (l) {
          var e = l.getElement && l.getElement();
          if (e) { e.setAttribute("data-code", l.feature.properties.code); e.setAttribute("fill", l.feature.properties.colour); }
        });
        areas.bringToBack();
        if (!state.fitted && fc.features.length) { map.fitBounds(areas.getBounds()); state.fitted = true; }
        renderLegend(fc);
        el.setAttribute("data-areas-drawn", String(fc.features.length));
        el.setAttribute("data-shown-indicator", fc.indicator);
        status.textContent = fc.features.length + " areas: " + fc.title + ".";
      });
    }

    var select = document.getElementById("indicator");
    if (select) {
      select.addEventListener("change", function () {
        state.indicator = select.value;
        var u = new URL(window.location.href);
        u.searchParams.set("indicator", state.indicator);
        window.history.replaceState(null, "", u.toString());
        load();
      });
    }
    load().then(function () { drawAssets(map, el.getAttribute("data-assets"), status); });
  }

  function setupResultsMap(el) {
    var map = makeMap(el);
    el.setAttribute("data-fit-assets", "1");
    drawAssets(map, el.getAttribute("data-assets"), document.getElementById("map-status"));
  }

  function setupPointMap(el) {
    var map = makeMap(el);
    var lat = parseFloat(el.getAttribute("data-lat")), lon = parseFloat(el.getAttribute("data-lon"));
    map.setView([lat, lon], 15);
    L.circleMarker([lat, lon], { radius: 9, color: "#000", weight: 2, fillColor: "#0072b2", fillOpacity: 1 })
      .addTo(map).bindTooltip(el.getAttribute("data-label") || "");
  }

  document.addEventListener("DOMContentLoaded", function () {
    var el = document.getElementById("map");
    if (el) { setupAreaMap(el); }
    var r = document.getElementById("results-map");
    if (r) { setupResultsMap(r); }
    var p = document.getElementById("point-map");
    if (p) { setupPointMap(p); }
  });
})();
