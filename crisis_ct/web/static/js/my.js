/* /my: the expert's tasks, drawn from /my/data.json or, without network, from the copy kept
   in the Cache API. Notes and completions go to an outbox in localStorage first, each with a
   UUID, and are sent when the network is there; the server applies an id once, so sending
   again after a lost answer is harmless. A refused note stays in the outbox with the reason.
   Every text from the server or the person is written with textContent, never as HTML. */
(function () {
  "use strict";
  var root = document.getElementById("my");
  if (!root) {
    return;
  }
  var S = JSON.parse(document.getElementById("my-strings").textContent);
  var USER = root.dataset.user;
  var LANG = root.dataset.lang || "en";
  var DATA_URL = root.dataset.dataUrl;
  var NOTE_URL = root.dataset.noteUrl;
  var TASK_URL = root.dataset.taskUrl;
  var PAGE_URL = root.dataset.pageUrl;
  var MAX_COMMENT = Number(root.dataset.maxComment) || 2000;
  // Shared with the service worker (static/js/my-sw.js): the last data, whoever fetched it.
  var DATA_CACHE = "crisis-ct-my-data";
  var OUTBOX_KEY = "crisis-ct.my.outbox." + USER;
  var NEAR_KEY = "crisis-ct.my.near." + USER;
  var SKEW_KEY = "crisis-ct.my.skew." + USER;

  var state = { data: null, csrf: null, fresh: false, signedOut: false, syncing: false };

  // --- small helpers --------------------------------------------------------------------
  function fmt(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (_, key) { return String(values[key]); });
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = text; }
    return node;
  }

  function inLanguage(texts) {
    if (!texts) { return ""; }
    return texts[LANG] || texts.en || Object.keys(texts).map(function (k) { return texts[k]; })[0] || "";
  }

  function duration(ms) {
    var minutes = Math.max(0, Math.floor(ms / 60000));
    if (minutes < 60) { return fmt(S.minutes, { n: minutes }); }
    var hours = Math.floor(minutes / 60);
    if (hours < 48) { return fmt(S.hours, { n: hours }) + " " + fmt(S.minutes, { n: minutes % 60 }); }
    return fmt(S.days, { n: Math.floor(hours / 24) });
  }

  function countdown(ms) {
    var seconds = Math.max(0, Math.floor(ms / 1000));
    var h = Math.floor(seconds / 3600), m = Math.floor(seconds / 60) % 60, s = seconds % 60;
    return (h ? h + " h " : "") + (h || m ? m + " min " : "") + s + " s";
  }

  // Milliseconds the phone's clock runs ahead of the server's, from the last fresh data.
  function skew() { return Number(localStorage.getItem(SKEW_KEY)) || 0; }
  function serverNow() { return Date.now() - skew(); }

  function newId() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    var bytes = crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (b) { return (b + 256).toString(16).slice(1); }).join("");
    return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20)].join("-");
  }

  // --- the outbox -----------------------------------------------------------------------
  function outbox() {
    try { return JSON.parse(localStorage.getItem(OUTBOX_KEY)) || []; } catch (e) { return []; }
  }

  function saveOutbox(items) { localStorage.setItem(OUTBOX_KEY, JSON.stringify(items)); }

  function updateNote(clientId, change) {
    var items = outbox();
    items.forEach(function (item) { if (item.client_id === clientId) { change(item); } });
    saveOutbox(items.filter(function (item) { return !item.removed; }));
  }

  function queue(task, action, comment) {
    var items = outbox();
    var pendingProgress = items.some(function (item) {
      return item.task_id === task.id && item.action === "progress" && item.state !== "refused";
    });
    // A claimed task must be in progress before it can be done: say so first, in order.
    if (action === "complete" && task.status === "claimed" && !pendingProgress) {
      items.push(note(task, "progress", ""));
    }
    items.push(note(task, action, comment));
    saveOutbox(items);
  }

  function note(task, action, comment) {
    return { client_id: newId(), task_id: task.id, task_title: task.title, action: action,
             comment: comment, written_at: new Date().toISOString(), state: "pending", error: null };
  }

  // --- data -----------------------------------------------------------------------------
  function dataUrl() {
    var near = localStorage.getItem(NEAR_KEY);
    return near ? DATA_URL + "?near=" + encodeURIComponent(near) : DATA_URL;
  }

  function keptData() {
    if (!("caches" in window)) { return Promise.resolve(null); }
    return caches.open(DATA_CACHE).then(function (cache) { return cache.match(DATA_URL); })
      .then(function (response) { return response ? response.json() : null; })
      .then(function (data) { return data && data.user && String(data.user.id) === USER ? data : null; })
      .catch(function () { return null; });
  }

  function keep(data) {
    if (!("caches" in window)) { return Promise.resolve(); }
    var copy = Object.assign({}, data, { csrf_token: null });
    return caches.open(DATA_CACHE).then(function (cache) {
      return cache.put(DATA_URL, new Response(JSON.stringify(copy), { headers: { "Content-Type": "application/json" } }));
    }).catch(function () {});
  }

  function forget() {
    if ("caches" in window) { caches.delete(DATA_CACHE); }
  }

  /* Fresh data from the server; resolves true when it came (online and signed in). */
  function refresh() {
    return fetch(dataUrl(), { credentials: "same-origin", redirect: "manual", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (response.type === "opaqueredirect" || response.status === 401 || response.status === 403) {
          state.signedOut = true;
          state.data = null;
          forget();  // someone else may be using this phone: their data is not shown
          return false;
        }
        if (!response.ok || response.headers.get("X-Offline-Copy")) {
          state.fresh = false;
          return false;
        }
        return response.json().then(function (data) {
          retryMs = MIN_RETRY_MS;
          state.signedOut = false;
          state.fresh = true;
          state.csrf = data.csrf_token;
          state.data = data;
          localStorage.setItem(SKEW_KEY, String(Date.now() - Date.parse(data.generated_at)));
          refreshFormTokens();
          return keep(data).then(function () { return true; });
        });
      })
      .catch(function () { state.fresh = false; return false; });
  }

  // The shell may be an old copy: its forms (language, sign out) get the fresh token too.
  function refreshFormTokens() {
    document.querySelectorAll("input[name=csrf_token]").forEach(function (input) { input.value = state.csrf; });
  }

  // --- sending the outbox ---------------------------------------------------------------
  function sendOne(item) {
    return fetch(NOTE_URL + item.task_id + "/" + item.action, {
      method: "POST", credentials: "same-origin", redirect: "manual",
      headers: { "Content-Type": "application/json", "X-CSRFToken": state.csrf, Accept: "application/json" },
      body: JSON.stringify({ client_id: item.client_id, comment: item.comment || null })
    }).then(function (response) {
      if (response.ok) { return "sent"; }
      var refusal = response.status === 409 || response.status === 403 || response.status === 404 ||
        response.status === 422;
      if (!refusal) { return "retry"; }  // signed out, stale token, server trouble: later
      return response.json().then(function (body) {
        var error = (body && body.error) || {};
        return { refused: S.errors[error.code] || error.message || String(response.status), code: error.code };
      }, function () { return { refused: String(response.status) }; });
    }, function () { return "retry"; });
  }

  function sync() {
    if (state.syncing) { return Promise.resolve(); }
    state.syncing = true;
    render();
    return refresh().then(function (online) {
      if (!online) { return false; }
      var pending = outbox().filter(function (item) { return item.state !== "refused"; });
      var chain = Promise.resolve(true);
      pending.forEach(function (item) {
        chain = chain.then(function (goOn) {
          if (!goOn) { return false; }
          return sendOne(item).then(function (outcome) {
            if (outcome === "retry") { return false; }
            updateNote(item.client_id, function (kept) {
              if (outcome === "sent") {
                kept.removed = true;
              } else {
                kept.state = "refused";
                kept.error = outcome.refused;
                kept.error_code = outcome.code || null;
              }
            });
            return true;
          });
        });
      });
      return chain.then(function (sentAll) { return sentAll ? refresh() : false; });
    }).then(function () {
      state.syncing = false;
      render();
    }, function () {
      state.syncing = false;
      render();
    });
  }

  // --- drawing --------------------------------------------------------------------------
  function siteFacts(task) {
    var data = state.data;
    var key = task.operation + ":" + task.site_id;
    var facts = data && data.sites && task.site_id ? data.sites[key] : null;
    if (!facts) { return null; }
    var box = el("div", "my-facts");
    var head = el("p", null);
    var phase = el("span", "phase-badge phase-" + (facts.phase || "none"),
                   facts.phase ? facts.phase + " · " + (S.phases[facts.phase] || "") : S.not_assessed);
    head.appendChild(phase);
    var parts = [S.site_types[facts.site_type] || facts.site_type];
    if (facts.households) { parts.push(fmt(S.households, { count: facts.households })); }
    if (facts.confidence) { parts.push(S.confidence_label + " " + (S.confidence[facts.confidence] || facts.confidence)); }
    if (facts.recency) { parts.push(S.recency[facts.recency] || facts.recency); }
    if (facts.assessment_date) { parts.push(fmt(S.assessed, { date: facts.assessment_date })); }
    head.appendChild(document.createTextNode(" " + parts.join(" · ")));
    box.appendChild(head);
    var domains = el("ul", "domains");
    Object.keys(facts.domain_phases || {}).forEach(function (code) {
      var level = facts.domain_phases[code];
      var item = el("li", "phase-badge phase-" + (level || "none"), (S.domains[code] || code) + ": " + (level || "—"));
      domains.appendChild(item);
    });
    box.appendChild(domains);
    return box;
  }

  // Where to refer: the directory's providers for the task's services, nearest first, kept
  // offline with the rest of the data. Phone and email are links; every text is textContent.
  function referralList(task) {
    var entries = (state.data && state.data.referral_contacts) || [];
    var entry = entries.filter(function (item) { return item.task_id === task.id; })[0];
    if (!entry) { return null; }
    var box = el("details", "my-referral");
    box.id = "refer-" + task.id;
    box.appendChild(el("summary", null, S.where_to_refer + " (" + entry.providers.length + ")"));
    if (!entry.providers.length) {
      box.appendChild(el("p", "hint", S.no_referral));
      return box;
    }
    var list = el("ul", "my-providers");
    entry.providers.forEach(function (provider) { list.appendChild(providerItem(provider)); });
    box.appendChild(list);
    return box;
  }

  function link(href, text, className) {
    var a = el("a", className, text);
    a.href = href;
    return a;
  }

  function joined(parent, parts) {
    parts.forEach(function (part, index) {
      if (index) { parent.appendChild(document.createTextNode(" · ")); }
      parent.appendChild(typeof part === "string" ? document.createTextNode(part) : part);
    });
    return parent;
  }

  function providerItem(provider) {
    var li = el("li", "my-provider");
    li.appendChild(el("strong", "provider-organisation", provider.organisation));
    var kinds = (provider.service_types || []).map(function (kind) { return inLanguage(kind.label) || kind.code; });
    if (kinds.length) { li.appendChild(el("p", "provider-types", kinds.join(" · "))); }
    var place = [];
    if (provider.service_point_name) { place.push(provider.service_point_name); }
    if (provider.distance_km !== undefined && provider.distance_km !== null) {
      place.push(fmt(S.km, { km: provider.distance_km }));
    }
    if (provider.opening_hours) { place.push(provider.opening_hours); }
    if (place.length) { li.appendChild(el("p", "service-point", place.join(" · "))); }
    var contact = [];
    if (provider.focal_point_role) { contact.push(el("span", "focal-point", provider.focal_point_role)); }
    if (provider.office_phone) {
      var dial = "tel:" + provider.office_phone.replace(/[^+0-9]/g, "");
      contact.push(link(dial, provider.office_phone, "provider-phone"));
    }
    if (provider.office_email) {
      contact.push(link("mailto:" + provider.office_email, provider.office_email, "provider-email"));
    }
    if (contact.length) { li.appendChild(joined(el("p", "provider-contact"), contact)); }
    if (provider.languages && provider.languages.length) {
      li.appendChild(el("p", "provider-languages", S.languages_label + " " + provider.languages.join(", ")));
    }
    if (provider.referral_requirements) {
      li.appendChild(el("p", "requirements", S.requirements_label + " " + provider.referral_requirements));
    }
    li.appendChild(el("p", "hint provider-verified", provider.last_verified_on
      ? S.last_verified + " " + provider.last_verified_on : S.never_verified));
    return li;
  }

  function taskHeader(card, task) {
    var title = el("h3", "task-title");
    var link = el("a", null, inLanguage(task.title));
    link.href = TASK_URL + task.id;
    title.appendChild(link);
    card.appendChild(title);
    var place = task.site_name || task.pcode || "";
    if (task.sites_count) { place += " · " + fmt(S.sites_count, { n: task.sites_count }); }
    var meta = [S.priorities[task.priority] || task.priority, S.statuses[task.status] || task.status, place];
    if (task.distance_km !== undefined && task.distance_km !== null) {
      meta.push(fmt(S.km, { km: task.distance_km }));
    }
    if (task.due_at) { meta.push(fmt(S.due, { date: task.due_at.slice(0, 10) })); }
    card.appendChild(el("p", "my-meta", meta.join(" · ")));
  }

  function actionForm(task, action, label) {
    // Claim and renew are ordinary forms of the task pages: they need the network.
    var form = el("form", "my-online-only");
    form.method = "post";
    form.action = TASK_URL + task.id + "/" + action;
    [["csrf_token", state.csrf || ""], ["next", PAGE_URL]].forEach(function (pair) {
      var input = el("input");
      input.type = "hidden";
      input.name = pair[0];
      input.value = pair[1];
      form.appendChild(input);
    });
    var button = el("button", "button action-" + action, label);
    button.type = "submit";
    button.disabled = !navigator.onLine || !state.csrf;
    form.appendChild(button);
    return form;
  }

  function heldCard(task) {
    var card = el("article", "my-card priority-" + task.priority);
    card.dataset.taskId = task.id;
    card.dataset.status = task.status;
    taskHeader(card, task);
    var clock = el("p", "my-countdown");
    if (task.claim && task.claim.expires_at) { clock.dataset.expires = task.claim.expires_at; }
    card.appendChild(clock);
    var facts = siteFacts(task);
    if (facts) { card.appendChild(facts); }
    var referral = referralList(task);
    if (referral) { card.appendChild(referral); }
    var id = "note-" + task.id;
    var label = el("label", null, S.note_label);
    label.htmlFor = id;
    var text = el("textarea", "my-note-text");
    text.id = id;
    text.maxLength = MAX_COMMENT;
    text.rows = 3;
    card.appendChild(label);
    card.appendChild(text);
    card.appendChild(el("p", "hint", S.note_hint));
    var buttons = el("div", "my-buttons");
    [["progress", S.save_note], ["complete", S.mark_done]].forEach(function (pair) {
      var button = el("button", "button action-" + pair[0] + "-note", pair[1]);
      button.type = "button";
      button.addEventListener("click", function () {
        var comment = text.value.trim();
        if (pair[0] === "progress" && !comment) { text.focus(); return; }
        queue(task, pair[0], comment);
        text.value = "";
        render();
        if (navigator.onLine) { sync(); }
      });
      buttons.appendChild(button);
    });
    buttons.appendChild(actionForm(task, "renew", S.renew));
    card.appendChild(buttons);
    return card;
  }

  function nearbyCard(task) {
    var card = el("article", "my-card priority-" + task.priority);
    card.dataset.taskId = task.id;
    taskHeader(card, task);
    var facts = siteFacts(task);
    if (facts) { card.appendChild(facts); }
    var referral = referralList(task);
    if (referral) { card.appendChild(referral); }
    var buttons = el("div", "my-buttons");
    buttons.appendChild(actionForm(task, "claim", S.claim));
    card.appendChild(buttons);
    return card;
  }

  function noteItem(item) {
    var li = el("li", "my-note " + item.state);
    if (item.error_code) { li.dataset.errorCode = item.error_code; }
    li.dataset.clientId = item.client_id;
    li.dataset.taskId = item.task_id;
    var what = inLanguage(item.task_title) + " — " + (item.action === "complete" ? S.completion : S.note_label);
    li.appendChild(el("p", "note-task", what));
    if (item.comment) { li.appendChild(el("p", "note-text", item.comment)); }
    if (item.state === "refused") {
      li.appendChild(el("p", "note-error", S.refused + " " + item.error));
      var buttons = el("div", "my-buttons");
      var again = el("button", "button button-secondary note-again", S.send_again);
      again.type = "button";
      again.addEventListener("click", function () {
        updateNote(item.client_id, function (kept) { kept.state = "pending"; kept.error = null; });
        render();
        if (navigator.onLine) { sync(); }
      });
      var discard = el("button", "button button-secondary note-discard", S.discard);
      discard.type = "button";
      discard.addEventListener("click", function () {
        if (window.confirm(S.discard_confirm)) {
          updateNote(item.client_id, function (kept) { kept.removed = true; });
          render();
        }
      });
      buttons.appendChild(again);
      buttons.appendChild(discard);
      li.appendChild(buttons);
    } else {
      li.appendChild(el("p", "hint", state.syncing && navigator.onLine ? S.sending : S.queued));
    }
    return li;
  }

  function fill(container, items, make, empty) {
    container.textContent = "";
    if (!items.length) {
      container.appendChild(el("p", "hint", empty));
      return;
    }
    items.forEach(function (item) { container.appendChild(make(item)); });
  }

  function render() {
    // Text being typed survives a redraw (the network coming back redraws the cards).
    var drafts = {};
    document.querySelectorAll("textarea.my-note-text").forEach(function (text) { drafts[text.id] = text.value; });
    var opened = [];  // and so does an opened "Where to refer"
    document.querySelectorAll("details.my-referral[open]").forEach(function (box) { opened.push(box.id); });
    var data = state.data;
    var notes = outbox();
    var box = document.getElementById("my-outbox");
    box.hidden = notes.length === 0;
    var refused = notes.some(function (item) { return item.state === "refused"; });
    document.getElementById("my-outbox-title").textContent = refused ? S.refused_title : S.outbox_title;
    fill(box.querySelector(".my-notes"), notes, noteItem, "");
    fill(document.getElementById("my-held"), data ? data.held : [], heldCard, data ? S.no_held : "");
    fill(document.getElementById("my-nearby"), data ? data.nearby : [], nearbyCard, data ? S.no_nearby : "");
    document.getElementById("my-network").hidden = navigator.onLine;
    Object.keys(drafts).forEach(function (id) {
      var text = document.getElementById(id);
      if (text && drafts[id]) { text.value = drafts[id]; }
    });
    opened.forEach(function (id) {
      var box = document.getElementById(id);
      if (box) { box.open = true; }
    });
    tick();
  }

  // The online/offline events are not fired everywhere (nor for every kind of outage): the
  // clock also watches navigator.onLine, and retries pending notes now and then.
  // The phone may say it is online while the server cannot be reached yet: then the next try
  // waits 2 s, 4 s, … up to a minute.
  var lastOnline = navigator.onLine;
  var MIN_RETRY_MS = 2000, MAX_RETRY_MS = 60000;
  var retryMs = MIN_RETRY_MS;
  var lastTry = Date.now();

  function watchNetwork() {
    var online = navigator.onLine;
    var stale = !state.fresh || outbox().some(function (item) { return item.state === "pending"; });
    if (online !== lastOnline) {
      lastOnline = online;
      retryMs = MIN_RETRY_MS;
      render();
      if (online) { lastTry = Date.now(); sync(); }
    } else if (online && stale && !state.syncing && !state.signedOut && Date.now() - lastTry > retryMs) {
      lastTry = Date.now();
      retryMs = Math.min(MAX_RETRY_MS, retryMs * 2);
      sync();
    }
  }

  function tick() {
    var status = document.getElementById("my-status");
    var data = state.data;
    var text, mode;
    if (state.signedOut) {
      text = S.signed_out;
      mode = "signed-out";
    } else if (!data) {
      text = S.no_data;
      mode = navigator.onLine ? "loading" : "offline";
    } else {
      var age = serverNow() - Date.parse(data.generated_at);
      var ageText = age < 60000 ? S.data_now : fmt(S.data_age, { age: duration(age) });
      mode = !navigator.onLine || !state.fresh ? "offline" : "online";
      text = (mode === "offline" ? S.offline + " " : "") + ageText;
    }
    status.dataset.state = mode;
    if (data) { status.dataset.generatedAt = data.generated_at; }
    if (status.textContent !== text) { status.textContent = text; }
    document.querySelectorAll(".my-countdown[data-expires]").forEach(function (clock) {
      var left = Date.parse(clock.dataset.expires) - serverNow();
      clock.classList.toggle("expired", left <= 0);
      clock.textContent = left > 0 ? fmt(S.expires_in, { time: countdown(left) }) : S.expired;
    });
    document.querySelectorAll(".my-online-only button").forEach(function (button) {
      button.disabled = !navigator.onLine || !state.csrf;
    });
  }

  // --- location -------------------------------------------------------------------------
  function locate() {
    var status = document.getElementById("my-locate-status");
    if (!("geolocation" in navigator)) { status.textContent = S.location_failed; return; }
    status.textContent = S.locating;
    navigator.geolocation.getCurrentPosition(function (position) {
      // Four decimals (about 10 m) is precise enough to sort tasks by distance.
      localStorage.setItem(NEAR_KEY, position.coords.longitude.toFixed(4) + "," + position.coords.latitude.toFixed(4));
      status.textContent = "";
      sync();
    }, function () {
      status.textContent = S.location_failed;
    }, { maximumAge: 300000, timeout: 15000 });
  }

  // Signing out here forgets the kept page and data first, so this phone does not show them
  // offline to whoever holds it next. (Signed out elsewhere, the worker forgets them at the
  // next visit of /my with the network.) Unsent notes stay.
  var logout = document.querySelector("form.logout");
  if (logout && "caches" in window) {
    logout.addEventListener("submit", function (event) {
      event.preventDefault();
      caches.keys().then(function (names) {
        // The kept page (in each shell cache) and the data; the CSS, script and icons stay.
        return Promise.all(names.map(function (name) {
          if (name === DATA_CACHE) { return caches.delete(name); }
          if (name.indexOf("crisis-ct-my-shell-") !== 0) { return null; }
          return caches.open(name).then(function (cache) { return cache.delete(PAGE_URL); });
        }));
      }).catch(function () {}).then(function () { logout.submit(); });
    });
  }

  // --- start ----------------------------------------------------------------------------
  document.getElementById("my-locate").addEventListener("click", locate);
  window.addEventListener("online", function () { lastOnline = true; lastTry = Date.now(); render(); sync(); });
  window.addEventListener("offline", function () { lastOnline = false; render(); });
  window.setInterval(function () { watchNetwork(); tick(); }, 1000);
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register(root.dataset.swUrl, { scope: PAGE_URL }).catch(function () {});
  }
  keptData().then(function (kept) {
    if (kept && !state.data) { state.data = kept; }
    render();
    return sync();
  });
})();
