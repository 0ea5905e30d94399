// The zendesk-analytics script-tag snippet. Pages paste www/snippet.min.js
// (`npx esbuild www/snippet.js --minify --target=es2017 --outfile=www/snippet.min.js`).
// It defines window.analytics at once as a stub whose every method queues
// the call with the page it was made on and returns a Promise; `analytics.load({writeKey, proxyUrl, sdkUrl})` imports
// the SDK asynchronously and replays the queue in order. When the SDK cannot
// start (a CSP without 'wasm-unsafe-eval', a blocked script) the stub stays a
// silent no-op: every queued and later Promise resolves, nothing throws.
(function (w, d) {
  var a = (w.analytics = w.analytics || []);
  // Included twice, or the SDK is already there: leave it alone.
  if (!a.push || a.invoked) return;
  a.invoked = 1;
  var done = function (r) {
    return Promise.resolve(r);
  };
  var stub = function (m) {
    return function () {
      var args = [].slice.call(arguments);
      // A page that kept this stub (`const analytics = window.analytics`)
      // reaches the SDK through it once it is there.
      if (a.sdk) return a.sdk[m].apply(a.sdk, args);
      if (a.failed) return done();
      return new Promise(function (resolve) {
        var l = location;
        a.push([m, args, { url: l.href, path: l.pathname, search: l.search, referrer: d.referrer, title: d.title }, resolve]);
      });
    };
  };
  'identify track page group alias ready flush reset setAnonymousId debug on off'.split(' ').forEach(function (m) {
    a[m] = stub(m);
  });
  // Getters answer at once, from nothing yet known.
  a.user = function () {
    return a.sdk ? a.sdk.user() : { id: function () { return null; }, anonymousId: function () { return null; }, traits: function () { return {}; } };
  };
  a.load = function (o) {
    if (a.loading) return;
    a.loading = 1;
    import(o.sdkUrl)
      .then(function (m) {
        return m.default().then(function () {
          var sdk = m.load(o);
          // One at a time: a replayed call's callback may queue another.
          for (var c; (c = a.shift()); ) {
            if (/^(identify|track|page|group|alias)$/.test(c[0])) sdk._page(c[2]);
            c[3](sdk[c[0]].apply(sdk, c[1]));
          }
          w.analytics = a.sdk = sdk;
        });
      })
      .catch(function () {
        a.failed = 1;
        a.splice(0).forEach(function (c) {
          c[3]();
        });
      });
  };
})(window, document);
