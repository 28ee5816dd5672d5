// Route page: draw the chosen way-points and let people click the map to add more.
(function () {
  "use strict";
  function parse(text) {
    return text.split(";").map(function (part) {
      var m = part.trim().match(/^(.*)@\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*$/);
      return m ? { name: m[1], lon: parseFloat(m[2]), lat: parseFloat(m[3]) } : null;
    }).filter(Boolean);
  }
  // Leaflet puts a string tooltip in as HTML: give it an element holding plain text instead
  function textNode(text) {
    var span = document.createElement("span");
    span.textContent = text;
    return span;
  }
  document.addEventListener("DOMContentLoaded", function () {
    var el = document.getElementById("route-map");
    if (!el) { return; }
    var map = L.map(el);
    map.attributionControl.setPrefix('<a href="https://leafletjs.com">Leaflet</a>');
    map.attributionControl.addAttribution('Contains ONS and MHCLG data, OGL v3.0; © <a href="https://www.openstreetmap.org/copyright">OpenStreetMap contributors</a>, ODbL');
    var tiles = el.getAttribute("data-tile-url");
    if (tiles) { L.tileLayer(tiles, { maxZoom: 19 }).addTo(map); }
    var layer = L.layerGroup().addTo(map);
    var box = document.getElementById("waypoints");
    // assets within the chosen radius of the route (the summary's assets_near_route), by ABCD kind
    var KIND_COLOURS = {
      individual: "#d55e00", association: "#0072b2", institution: "#6a3d9a",
      physical_space: "#117733", economy: "#8c6d00", culture: "#cc3377"
    };
    var assets = [];
    try { assets = JSON.parse(el.getAttribute("data-assets") || "[]"); } catch (e) { assets = []; }
    var assetLayer = L.layerGroup().addTo(map);
    assets.forEach(function (a) {
      var m = L.circleMarker([a[1], a[0]], {
        radius: 5, color: "#000", weight: 1, fillOpacity: 0.95, fillColor: KIND_COLOURS[a[3]] || "#444",
        className: "route-asset route-asset-" + String(a[3] || "unknown").replace(/[^a-z_]/g, "")
      });
      m.bindTooltip(textNode(a[2] || "Unnamed asset"));
      m.addTo(assetLayer);
    });
    el.setAttribute("data-assets-drawn", String(assets.length));
    fetch("/api/areas.geojson?level=lsoa&vintage=2011&indicator=imd_decile").then(function (r) { return r.json(); }).then(function (fc) {
      var areas = L.geoJSON(fc, { interactive: false, style: function (f) { return { color: "#555", weight: 0.4, fillColor: f.properties.colour, fillOpacity: 0.45 }; } }).addTo(map);
      areas.bringToBack();
      if (!parse(box.value).length && fc.features.length) { map.fitBounds(areas.getBounds()); }
    });
    function draw() {
      layer.clearLayers();
      var pts = parse(box.value);
      if (!pts.length) { map.setView([53.8, -1.55], 11); return; }
      var ll = pts.map(function (p) { return [p.lat, p.lon]; });
      L.polyline(ll, { color: "#000", weight: 4 }).addTo(layer);
      pts.forEach(function (p) { L.circleMarker([p.lat, p.lon], { radius: 6, color: "#000", fillColor: "#fff", fillOpacity: 1 }).bindTooltip(textNode(p.name || "Way-point")).addTo(layer); });
      map.fitBounds(L.latLngBounds(ll), { padding: [20, 20], maxZoom: 15 });
    }
    map.on("click", function (e) {
      var pts = parse(box.value);
      var name = "Point " + (pts.length + 1);
      box.value = (box.value.trim() ? box.value.trim() + ";" : "") + name + "@" + e.latlng.lng.toFixed(5) + "," + e.latlng.lat.toFixed(5);
      document.querySelectorAll("input[name=route]").forEach(function (r) { r.checked = false; });
      draw();
    });
    document.getElementById("clear-waypoints").addEventListener("click", function () { box.value = ""; draw(); });
    document.querySelectorAll("input[name=route]").forEach(function (r) {
      r.addEventListener("change", function () { box.value = ""; });
    });
    draw();
  });
})();
