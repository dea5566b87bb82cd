/* The referral directory's service points on the risk map (experts and coordinators only: the
   page loads this file only for them). A layer that can be switched off, drawn as small squares
   so they never read as risk-coloured sites. Popups are DOM nodes filled with textContent.
   Test hook: the map element's data-service-points. */
(function () {
  "use strict";

  var config = JSON.parse(document.getElementById("map-config").textContent).servicePoints;
  var risk = window.crisisRiskMap;
  if (!config || !risk) return;
  var labels = config.labels;
  var container = document.getElementById("risk-map");
  var layer = L.layerGroup().addTo(risk.map);
  L.control.layers(null, (function () { var o = {}; o[labels.layer] = layer; return o; })(),
                   { collapsed: false, position: "topright" }).addTo(risk.map);
  risk.servicePoints = layer;

  function element(tag, text, className) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = text;
    if (className) node.className = className;
    return node;
  }

  function popup(props) {
    var box = element("div", null, "popup service-point-popup");
    box.appendChild(element("h3", props.organisation));
    if (props.service_point_name) box.appendChild(element("p", props.service_point_name));
    var list = element("ul");
    props.service_types.forEach(function (code) { list.appendChild(element("li", labels.types[code] || code)); });
    box.appendChild(list);
    if (props.opening_hours) box.appendChild(element("p", labels.hours + ": " + props.opening_hours));
    if (props.office_phone) box.appendChild(element("p", labels.phone + ": " + props.office_phone));
    var link = element("a", labels.directory);
    link.href = config.directoryUrl;
    box.appendChild(link);
    return box;
  }

  var icon = L.divIcon({ className: "service-point-marker", iconSize: [12, 12] });
  fetch(config.url, { credentials: "same-origin", headers: { Accept: "application/geo+json" } })
    .then(function (response) {
      if (!response.ok) throw new Error("HTTP " + response.status);
      return response.json();
    })
    .then(function (collection) {
      collection.features.forEach(function (feature) {
        var coords = feature.geometry.coordinates;
        var marker = L.marker([coords[1], coords[0]], { icon: icon, title: feature.properties.organisation,
                                                        keyboard: true });
        marker.bindPopup(function () { return popup(feature.properties); });
        layer.addLayer(marker);
      });
      container.dataset.servicePoints = String(collection.features.length);
    })
    .catch(function (error) {
      container.dataset.servicePoints = "error";
      if (window.console) console.error(error);
    });
})();
