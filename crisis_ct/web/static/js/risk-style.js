/* How risk looks on the map, and which features the filters keep.
   The filter rules mirror crisis_ct/web/risk_view.py (RiskFilters), so the map and
   the list view show the same sites. No DOM, no Leaflet: plain functions. */
(function () {
  "use strict";

  // ColorBrewer YlOrRd, 5 classes: sequential yellow -> dark red, colour-blind safe.
  var PALETTE = { 1: "#ffffb2", 2: "#fecc5c", 3: "#fd8d3c", 4: "#f03b20", 5: "#bd0026" };
  var NO_DATA = "#bdbdbd";
  var PHASES = [1, 2, 3, 4, 5];

  function asPhase(value) {
    return PHASES.indexOf(value) >= 0 ? value : null;
  }

  function shownPhase(props, domain) {
    if (domain) {
      return asPhase((props.domain_phases || {})[domain]);
    }
    return asPhase(props.phase);
  }

  function areaPhase(props) {
    var status = props.status || "classified";
    return status === "classified" ? asPhase(props.phase) : null;
  }

  function phaseMatches(phase, wanted) {
    if (!wanted) return true;
    if (wanted === "none") return phase === null;
    if (phase === null) return false;
    if (wanted.slice(-4) === "plus") return phase >= Number(wanted.charAt(0));
    return String(phase) === wanted;
  }

  function matchesSite(props, filters) {
    if (filters.site_type && props.site_type !== filters.site_type) return false;
    if (filters.recency && (props.recency || "none") !== filters.recency) return false;
    return phaseMatches(shownPhase(props, filters.domain), filters.phase);
  }

  function matchesArea(props, filters) {
    return phaseMatches(areaPhase(props), filters.phase);
  }

  // Low confidence and ageing/expired assessments are drawn faded with a dashed outline.
  function isFaded(props) {
    return props.confidence === "low" || props.recency === "ageing" || props.recency === "expired";
  }

  function color(phase) {
    return phase === null ? NO_DATA : PALETTE[phase];
  }

  function siteStyle(props, domain) {
    var faded = isFaded(props);
    var phase = shownPhase(props, domain);
    return {
      zIndex: (phase || 0) * 2 + (faded ? 0 : 1), // drawing order: severe and confident on top
      radius: 6,
      weight: 1,
      color: "#333333",
      fillColor: color(phase),
      fillOpacity: faded ? 0.35 : 0.9,
      opacity: faded ? 0.7 : 1,
      dashArray: faded ? "2 2" : null
    };
  }

  function areaStyle(props, filters) {
    var faded = isFaded(props);
    var kept = matchesArea(props, filters);
    return {
      weight: props.hotspot ? 3 : 1,
      color: props.hotspot ? "#000000" : "#555555",
      fillColor: color(areaPhase(props)),
      fillOpacity: !kept ? 0.08 : faded ? 0.3 : 0.65,
      dashArray: faded ? "4 4" : null
    };
  }

  window.CrisisRisk = {
    PALETTE: PALETTE,
    NO_DATA: NO_DATA,
    shownPhase: shownPhase,
    areaPhase: areaPhase,
    phaseMatches: phaseMatches,
    matchesSite: matchesSite,
    matchesArea: matchesArea,
    isFaded: isFaded,
    siteStyle: siteStyle,
    areaStyle: areaStyle
  };
})();
