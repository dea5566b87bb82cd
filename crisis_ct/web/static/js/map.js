/* The risk map: admin areas as the base map (no tile server needed), coloured by
   phase, and every site a dot of one canvas layer (site-dots.js), so 50,000 stay smooth on a phone.
   Configuration and translated labels come from <script type="application/json" id="map-config">.
   Test hooks: the map element's data-site-markers, data-area-features and data-state; in the
   console window.crisisRiskMap (sites.eachSite(fn(props, latlng))). */
(function () {
  "use strict";

  var R = window.CrisisRisk;
  var config = JSON.parse(document.getElementById("map-config").textContent);
  var labels = config.labels;
  var container = document.getElementById("risk-map");
  var statusLine = document.getElementById("map-status");
  var form = document.getElementById("risk-filters");
  var listLink = document.getElementById("list-link");
  var filtersBox = document.getElementById("filters-box");
  var numbers = new Intl.NumberFormat(config.lang);
  var dates = new Intl.DateTimeFormat(config.lang, { dateStyle: "medium" });

  // Simplification tolerance in degrees before the first zoom is known, per admin level.
  var LEVEL_TOLERANCE = { 1: 0.01, 2: 0.005, 3: 0.002 };

  var map = L.map(container, { preferCanvas: true, zoomControl: false, attributionControl: Boolean(config.tileUrl) });
  L.control.zoom({ zoomInTitle: labels.zoomIn, zoomOutTitle: labels.zoomOut }).addTo(map);
  var renderer = L.canvas({ padding: 0.3 });
  if (config.tileUrl) {
    L.tileLayer(config.tileUrl, { maxZoom: 18 }).addTo(map);
  }
  map.setView([0, 0], 2);
  if (window.matchMedia("(min-width: 900px)").matches) filtersBox.open = true;

  var filters = readFilters();
  var areaLayer = L.geoJSON(null, {
    renderer: renderer,
    style: function (feature) { return R.areaStyle(feature.properties, filters); },
    onEachFeature: function (feature, layer) {
      layer.bindPopup(function () { return areaPopup(feature.properties); });
    }
  }).addTo(map);
  var siteLayer = L.siteDots({ renderer: renderer, popup: sitePopup }).addTo(map);
  // For the browser tests and for debugging in the console; the page itself never reads it.
  window.crisisRiskMap = { map: map, sites: siteLayer, areas: areaLayer };
  var siteRecords = []; // {props, latlng} of every site fetched
  var areaRequest = 0;
  var siteRequest = 0;
  var loadedAreaKey = null;
  var fitted = false;

  function readFilters() {
    var data = new FormData(form);
    return {
      level: Number(data.get("level")) || 2,
      phase: data.get("phase") || "",
      domain: data.get("domain") || "",
      site_type: data.get("site_type") || "",
      recency: data.get("recency") || ""
    };
  }

  function setStatus(text) {
    statusLine.textContent = text;
  }

  function fetchJSON(url, accept) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: accept || "application/geo+json" } })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      });
  }

  function withQuery(base, params) {
    var query = new URLSearchParams();
    Object.keys(params).forEach(function (key) {
      if (params[key] !== "" && params[key] !== null && params[key] !== undefined) query.set(key, params[key]);
    });
    return base + "?" + query.toString();
  }

  /* --- popups: built as DOM nodes with textContent, so no data is ever parsed as HTML --- */

  function element(tag, text, className) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = text;
    if (className) node.className = className;
    return node;
  }

  function row(list, title, value) {
    if (value === undefined || value === null || value === "") return;
    list.appendChild(element("dt", title));
    list.appendChild(element("dd", value));
  }

  function phaseText(phase) {
    return phase === null ? labels.notAssessed : phase + " " + labels.phases[phase];
  }

  function formatDate(value) {
    if (!value) return null;
    var parsed = new Date(String(value).slice(0, 10) + "T00:00:00");
    return isNaN(parsed) ? String(value) : dates.format(parsed);
  }

  function sitePopup(props) {
    var box = element("div", null, "popup");
    box.appendChild(element("h3", props.name));
    var list = element("dl");
    var phase = R.shownPhase(props, filters.domain);
    row(list, filters.domain ? labels.domains[filters.domain] : labels.phase, phaseText(phase));
    row(list, labels.siteTypeTitle, labels.siteTypes[props.site_type] || props.site_type);
    row(list, labels.confidenceTitle, labels.confidence[props.confidence]);
    row(list, labels.recencyTitle, labels.recency[props.recency]);
    row(list, labels.assessed, formatDate(props.assessment_date));
    box.appendChild(list);
    var link = element("a", labels.why);
    link.href = config.siteUrl + encodeURIComponent(props.site_id);
    box.appendChild(link);
    return box;
  }

  function areaStatusText(props) {
    if (props.status === "insufficient_data") return labels.insufficientData;
    if (props.status === "no_sites") return labels.noSites;
    return phaseText(R.areaPhase(props));
  }

  function areaPopup(props) {
    var box = element("div", null, "popup");
    box.appendChild(element("h3", props.name || props.pcode));
    var list = element("dl");
    row(list, labels.phase, areaStatusText(props));
    if (props.sites_assessed !== undefined && props.sites_assessed !== null) {
      row(list, labels.sitesAssessed, numbers.format(props.sites_assessed) + " / " + numbers.format(props.sites_known || 0));
    }
    if (props.pct_sites_3plus !== undefined && props.pct_sites_3plus !== null) {
      row(list, labels.sites3plus, numbers.format(props.pct_sites_3plus) + " %");
    }
    row(list, labels.confidenceTitle, labels.confidence[props.confidence]);
    if (props.hotspot) list.appendChild(element("dd", labels.hotspot, "hotspot"));
    box.appendChild(list);
    var link = element("a", labels.why);
    link.href = config.areaUrl + encodeURIComponent(props.pcode);
    box.appendChild(link);
    return box;
  }

  /* --- admin areas --- */

  function tolerance(level) {
    if (!fitted) return LEVEL_TOLERANCE[level];
    // About one screen pixel at this zoom, in degrees, snapped to a power of two so
    // small zoom changes reuse the same request (and the browser's cache).
    var perPixel = 360 / (256 * Math.pow(2, map.getZoom()));
    var snapped = Math.pow(2, Math.round(Math.log(perPixel) / Math.LN2));
    return Math.min(0.05, Math.max(0.0002, snapped));
  }

  function loadAreas() {
    var level = filters.level;
    var simplify = Number(tolerance(level).toPrecision(3));
    var key = level + "/" + simplify;
    if (key === loadedAreaKey) return Promise.resolve();
    var ticket = ++areaRequest;
    return fetchJSON(withQuery(config.areasUrl, { level: level, lang: config.lang, simplify: simplify }))
      .then(function (collection) {
        if (ticket !== areaRequest) return; // a newer request superseded this one
        areaLayer.clearLayers();
        areaLayer.addData(collection);
        loadedAreaKey = key;
        container.dataset.areaFeatures = String(collection.features.length);
        siteLayer.bringToFront(); // new area shapes are drawn last: the sites stay on top
        if (!fitted && collection.features.length) {
          map.fitBounds(areaLayer.getBounds(), { animate: false, padding: [8, 8] });
          fitted = true;
        }
      });
  }

  /* --- sites --- */

  function drawSites() {
    var shown = [];
    siteRecords.forEach(function (record) {
      if (!R.matchesSite(record.props, filters)) return;
      shown.push({ props: record.props, latlng: record.latlng, style: R.siteStyle(record.props, filters.domain) });
    });
    siteLayer.setSites(shown);
    container.dataset.siteMarkers = String(shown.length);
  }

  // The sites API's rows (one array per site, its columns named once) as {props, latlng}.
  function siteRecordsOf(body) {
    var columns = body.columns;
    return body.rows.map(function (row) {
      var props = {};
      for (var i = 0; i < columns.length; i++) props[columns[i]] = row[i];
      return { props: props, latlng: L.latLng(props.lat, props.lon) };
    });
  }

  function loadSites() {
    // A viewer's map shows admin areas only (no site-level results, domain.md §4.3).
    if (!config.sitesUrl) return Promise.resolve();
    var params = {};
    // The first view is the whole operation: its sites are asked for beside the areas, not after.
    if (config.fetchByBbox && fitted) {
      var b = map.getBounds().pad(0.2);
      params.bbox = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]
        .map(function (n) { return n.toFixed(4); }).join(",");
    }
    var ticket = ++siteRequest;
    return fetchJSON(withQuery(config.sitesUrl, params), "application/json").then(function (body) {
      if (ticket !== siteRequest) return; // a newer request superseded this one
      siteRecords = siteRecordsOf(body);
      if (!fitted && siteRecords.length) {
        map.fitBounds(L.latLngBounds(siteRecords.map(function (record) { return record.latlng; })),
                      { animate: false, padding: [8, 8] });
        fitted = true;
      }
      drawSites();
    });
  }

  /* --- filters: applied in place, mirrored in the address bar and the list link --- */

  function filterQuery() {
    return withQuery("", filters).slice(1);
  }

  function applyFilters() {
    var previousLevel = filters.level;
    filters = readFilters();
    history.replaceState(null, "", "?" + filterQuery());
    listLink.href = listLink.pathname + "?" + filterQuery();
    drawSites();
    areaLayer.setStyle(function (feature) { return R.areaStyle(feature.properties, filters); });
    if (filters.level !== previousLevel) {
      loadAreas().catch(failed);
    }
  }

  function failed(error) {
    container.dataset.state = "error";
    setStatus(labels.failed);
    if (window.console) console.error(error);
  }

  form.addEventListener("change", applyFilters);
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    applyFilters();
  });

  var moveTimer = null;
  map.on("moveend", function () {
    if (!fitted) return;
    clearTimeout(moveTimer);
    moveTimer = setTimeout(function () {
      var work = [loadAreas()];
      if (config.fetchByBbox) work.push(loadSites());
      Promise.all(work).catch(failed);
    }, 250);
  });

  setStatus(labels.loading);
  Promise.all([loadAreas(), loadSites()])
    .then(function () {
      setStatus("");
      container.dataset.state = "ready";
    })
    .catch(failed);
})();
