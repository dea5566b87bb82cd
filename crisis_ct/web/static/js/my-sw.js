/* The /my page's service worker. crisis_ct.web.my_page writes SHELL (the page and the files
   it loads, fingerprinted), VERSION and DATA_URL in front of this script.
   - The page: from the network, but after NAVIGATION_WAIT_MS (or at once without network)
     the kept copy, so the page opens offline and fast on a slow link; a copy arriving late
     still replaces the kept one.
   - Its files: kept at install, served from the cache (their URLs change with their content).
   - Its data: from the network; without network the copy the page kept, marked X-Offline-Copy.
   Nothing else passes through here: other pages and every POST go to the network as usual. */
"use strict";
var SHELL_CACHE = "crisis-ct-my-shell-" + VERSION;
var DATA_CACHE = "crisis-ct-my-data";  // written by the page (static/js/my.js)
var PAGE_URL = SHELL[0];
var NAVIGATION_WAIT_MS = 800;

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(SHELL_CACHE).then(function (cache) {
    return cache.addAll(SHELL.map(function (url) {
      return new Request(url, { credentials: "same-origin", redirect: "error" });
    }));
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (name) {
      return name.indexOf("crisis-ct-my-shell-") === 0 && name !== SHELL_CACHE;
    }).map(function (name) { return caches.delete(name); }));
  }).then(function () { return self.clients.claim(); }));
});

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") {
    return;
  }
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) {
    return;
  }
  if (request.mode === "navigate" && url.pathname === PAGE_URL) {
    event.respondWith(page(event));
  } else if (url.pathname === DATA_URL) {
    event.respondWith(data(request));
  } else if (SHELL.indexOf(url.pathname + url.search) > 0) {
    event.respondWith(caches.match(request).then(function (kept) { return kept || keptFetch(event); }));
  }
});

function keptFetch(event) {
  // A file of the shell missing from the cache (it was cleared): fetch it and keep it again.
  return fetch(event.request).then(function (response) {
    if (response.ok) {
      var copy = response.clone();
      event.waitUntil(caches.open(SHELL_CACHE).then(function (cache) { return cache.put(event.request, copy); }));
    }
    return response;
  });
}

function keptPage() {
  return caches.open(SHELL_CACHE).then(function (cache) { return cache.match(PAGE_URL); });
}

function page(event) {
  var network = fetch(event.request).then(function (response) {
    // Only the page itself: a redirect (to sign in) or an error page is never kept.
    if (response.ok && response.type === "basic" && !response.redirected) {
      var copy = response.clone();
      event.waitUntil(caches.open(SHELL_CACHE).then(function (cache) { return cache.put(PAGE_URL, copy); }));
    } else if (response.type === "opaqueredirect") {
      // Sent to sign in: nobody is signed in here now, so the copies of the last person's
      // page and data go (their unsent notes stay, in the page's localStorage).
      event.waitUntil(Promise.all([
        caches.open(SHELL_CACHE).then(function (cache) { return cache.delete(PAGE_URL); }),
        caches.delete(DATA_CACHE)]));
    }
    return response;
  });
  event.waitUntil(network.catch(function () {}));
  return new Promise(function (resolve, reject) {
    var answered = false;
    function answer(response) {
      if (!answered && response) {
        answered = true;
        resolve(response);
      }
    }
    var timer = setTimeout(function () { keptPage().then(answer); }, NAVIGATION_WAIT_MS);
    network.then(function (response) {
      clearTimeout(timer);
      answer(response);
    }, function (error) {
      clearTimeout(timer);
      keptPage().then(function (kept) {
        if (kept) { answer(kept); } else if (!answered) { reject(error); }
      });
    });
  });
}

function data(request) {
  return fetch(request).catch(function () {
    return caches.open(DATA_CACHE).then(function (cache) { return cache.match(DATA_URL); }).then(function (kept) {
      if (!kept) {
        return Response.error();
      }
      return kept.blob().then(function (body) {
        var headers = new Headers(kept.headers);
        headers.set("X-Offline-Copy", "1");
        return new Response(body, { status: 200, headers: headers });
      });
    });
  });
}
