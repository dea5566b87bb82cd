/* Every site as a dot, all of them one Leaflet layer on the map's canvas renderer: one path
   per style (a few fills and strokes in all, not one per site), so 50,000 sites draw in a
   blink and stay smooth on a phone. The site under a click or tap is the nearest dot within
   its radius; its popup comes from options.popup(site), a DOM node.
   Each site is {props, latlng, style}; style as CrisisRisk.siteStyle gives it (zIndex: the
   order of the styles, higher on top). No site data here: map.js fills it with setSites.
   Test hook: eachSite(fn(props, latlng)). */
(function () {
  "use strict";

  var TOUCH_SLACK = 6; // px: a fingertip is less precise than a pointer
  var FULL_CIRCLE = Math.PI * 2;

  L.SiteDots = L.Path.extend({
    options: { fill: true, radius: 6, weight: 1, bubblingMouseEvents: false, popup: null },

    initialize: function (options) {
      L.setOptions(this, options);
      this._sites = [];
      this._groups = [];
      this._x = new Float64Array(0); // projected at zoom 0: a zoom only scales them
      this._y = new Float64Array(0);
      this._hit = -1;
      this.on("click", this._openPopup, this);
    },

    setSites: function (sites) {
      var map = this._map;
      this._sites = sites;
      this._x = new Float64Array(sites.length);
      this._y = new Float64Array(sites.length);
      sites.forEach(function (site, i) {
        var p = L.CRS.EPSG3857.latLngToPoint(site.latlng, 0);
        this._x[i] = p.x;
        this._y[i] = p.y;
      }, this);
      this._groups = groupByStyle(sites);
      this._hit = -1;
      if (map) this.redraw();
      return this;
    },

    eachSite: function (fn) {
      this._sites.forEach(function (site) { fn(site.props, site.latlng); });
      return this;
    },

    _project: function () {
      var map = this._map;
      var n = this._sites.length;
      var scale = map.getZoomScale(map.getZoom(), 0);
      var origin = map.getPixelOrigin();
      var px = this._px = new Float64Array(n);
      var py = this._py = new Float64Array(n);
      var min = [Infinity, Infinity], max = [-Infinity, -Infinity];
      for (var i = 0; i < n; i++) {
        px[i] = Math.round(this._x[i] * scale - origin.x);
        py[i] = Math.round(this._y[i] * scale - origin.y);
        if (px[i] < min[0]) min[0] = px[i];
        if (py[i] < min[1]) min[1] = py[i];
        if (px[i] > max[0]) max[0] = px[i];
        if (py[i] > max[1]) max[1] = py[i];
      }
      var reach = this._reach();
      this._pxBounds = n ? L.bounds([min[0] - reach, min[1] - reach], [max[0] + reach, max[1] + reach]) : null;
    },

    _update: function () {
      // Drawing happens when the renderer draws (_updatePath); nothing to clip or simplify.
    },

    _updateBounds: function () {
      if (this._map) this._project();
    },

    _empty: function () {
      return !this._pxBounds || !this._renderer._bounds.intersects(this._pxBounds);
    },

    _reach: function () {
      return this.options.radius + this._clickTolerance() + (L.Browser.mobile ? TOUCH_SLACK : 0);
    },

    _updatePath: function () {
      var renderer = this._renderer;
      if (!renderer._drawing || this._empty()) return;
      var ctx = renderer._ctx;
      var view = renderer._bounds;
      var r = this.options.radius;
      var left = view.min.x - r, top = view.min.y - r, right = view.max.x + r, bottom = view.max.y + r;
      var px = this._px, py = this._py;
      this._groups.forEach(function (group) {
        var style = group.style;
        ctx.beginPath();
        var indices = group.indices;
        for (var k = 0; k < indices.length; k++) {
          var x = px[indices[k]], y = py[indices[k]];
          if (x < left || x > right || y < top || y > bottom) continue;
          ctx.moveTo(x + r, y);
          ctx.arc(x, y, r, 0, FULL_CIRCLE);
        }
        ctx.globalAlpha = style.fillOpacity;
        ctx.fillStyle = style.fillColor;
        ctx.fill();
        ctx.setLineDash(style.dashArray ? style.dashArray.split(/[ ,]+/).map(Number) : []);
        ctx.globalAlpha = style.opacity;
        ctx.lineWidth = style.weight;
        ctx.strokeStyle = style.color;
        ctx.stroke();
      });
      ctx.setLineDash([]);
      ctx.globalAlpha = 1;
    },

    // The nearest dot within reach of a layer point; remembered for the click that follows.
    _containsPoint: function (point) {
      var px = this._px, py = this._py;
      if (!px) return false;
      var reach = this._reach();
      var best = reach * reach, hit = -1;
      for (var i = 0; i < px.length; i++) {
        var dx = px[i] - point.x, dy = py[i] - point.y;
        var d = dx * dx + dy * dy;
        if (d <= best) { best = d; hit = i; }
      }
      this._hit = hit;
      return hit >= 0;
    },

    _openPopup: function () {
      var site = this._sites[this._hit];
      if (!site || !this.options.popup || !this._map) return;
      this._popup = this._popup || L.popup({ offset: [0, -this.options.radius] });
      this._popup.setLatLng(site.latlng).setContent(this.options.popup(site.props)).openOn(this._map);
    }
  });

  // Sites with the same look share one path; the groups are drawn by zIndex (severe on top).
  function groupByStyle(sites) {
    var byKey = {};
    var groups = [];
    sites.forEach(function (site, i) {
      var s = site.style;
      var key = [s.fillColor, s.fillOpacity, s.opacity, s.dashArray, s.color, s.weight].join("|");
      if (!byKey[key]) {
        byKey[key] = { style: s, indices: [] };
        groups.push(byKey[key]);
      }
      byKey[key].indices.push(i);
    });
    return groups.sort(function (a, b) { return (a.style.zIndex || 0) - (b.style.zIndex || 0); });
  }

  L.siteDots = function (options) {
    return new L.SiteDots(options);
  };
})();
